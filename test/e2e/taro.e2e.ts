/**
 * End to end: the Taro playground as scripts/e2e.mjs builds it (tokenrelay installed from the packed
 * tarball, tokenrelay/taro/plugin in config/index.ts, src/tokenrelay.config.ts as its config), against the
 * reference server (playground-server) on 127.0.0.1.
 *
 * weapp and alipay run under Node (miniprogram-runtime.ts: simulated wx / my doing real HTTP; Alipay sends
 * non-2xx to `fail`); H5 runs in Debian's Chromium (h5-runtime.ts). Each one goes through the same session:
 *   1. first "Run all" logs in silently (platform code → /auth/login), then 12 calls answer 200, generation 1;
 *   2. every access token expires → "Run all": exactly one refresh, every call replayed with generation 2;
 *   3. the user's refresh tokens are revoked → "Run all": the session ends, exactly one navigation to the
 *      login page; its "Log in" button logs in again and goes back to the home page.
 * Plus the settings page's body-code expiry (HTTP 200 + code 99997), and a real `taro build` whose plugin
 * points at a missing config file (or one without a default export) failing with a message naming it.
 *
 * Launch without errors or missing APIs, the login and settings pages, and the H5 home page screenshot
 * are covered by the same story.
 *
 * Build first (scripts/e2e.mjs does all of it): `npm pack` at the root, in playground-taro
 * `npm ci && npm install --no-save <tarball>`, then `npm run build:weapp`, `build:alipay`, `build:h5`.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { startServer } from '../../playground-server/server.js'
import { launchBrowser, openH5App, type H5App, type PwBrowser } from './h5-runtime'
import { loadMiniProgram, type MiniPlatform, type MiniProgram } from './miniprogram-runtime'
import {
  HOME,
  LOGIN,
  PLAYGROUND,
  expectOneRefreshAndReplays,
  expectedLines,
  hitsSince,
  mark,
  resultLines,
  taroBuild,
  type ReferenceServer,
} from './taro-flow'

function builtDir(dir: string, marker: string, script: string): string {
  const full = path.join(PLAYGROUND, dir)
  if (!fs.existsSync(path.join(full, marker)))
    throw new Error(`playground-taro/${dir} is not built: run \`npm run ${script}\` in playground-taro`)
  return full
}

const MINI: Array<{ name: string; dir: string; platform: MiniPlatform; script: string }> = [
  { name: 'taro weapp', dir: 'dist/weapp', platform: 'wx', script: 'build:weapp' },
  { name: 'taro alipay', dir: 'dist/alipay', platform: 'my', script: 'build:alipay' },
  { name: 'taro tt', dir: 'dist/tt', platform: 'tt', script: 'build:tt' },
]

describe.each(MINI)('$name (Node runtime, reference server)', (o) => {
  let dir: string
  let ref: ReferenceServer
  const opened: MiniProgram[] = []
  const load = async () => {
    const app = await loadMiniProgram({ dir, platform: o.platform, apiBase: ref.url })
    opened.push(app)
    return app
  }
  const loginNavigations = (app: MiniProgram) => app.navigations.filter((n) => n.url.split('?')[0] === LOGIN)

  beforeAll(async () => {
    dir = builtDir(o.dir, 'app.js', o.script)
    ref = await startServer()
  })
  afterAll(async () => {
    for (const app of opened) await app.close()
    await ref?.close()
  })

  test('launches on the home page, logged out, without errors or missing APIs', async () => {
    const app = await load()
    expect(app.navigations).toEqual([{ api: 'launch', url: HOME, ok: true }])
    await app.waitForText('home', 'session: logged out')
    await app.waitForText('home', 'run 0 results 0/0')
    expect(app.http).toEqual([]) // nothing is sent before the user asks
    expect(app.errors).toEqual([])
    expect(app.missingApis).toEqual([])
  })

  test('silent login, one refresh for 12 expired calls, and a revoked session ends on the login page once', async () => {
    ref.reset()
    const app = await load()

    // 1. First use: the relay logs in silently (platform login code → /auth/login) before the 12 calls.
    await app.tap('home', 'run-all')
    let texts = await app.waitForText('home', 'run 1 results 12/12')
    expect(resultLines(texts)).toEqual(expectedLines(200, '1'))
    expect(texts).toContain('session: logged in gen=1')
    expect(app.loginCodes).toHaveLength(1)
    if (o.platform === 'tt') expect(app.loginForce).toEqual([false]) // no host login popup from a silent login
    expect(ref.stats()).toMatchObject({ logins: 1, refreshAttempts: 0 })
    const loginCall = app.http.find((h) => h.url.endsWith('/auth/login'))!
    expect(app.http.filter((h) => h.url.includes('/api/')).every((h) => h.startedAt >= loginCall.endedAt!)).toBe(true)
    expect(
      app.http.filter((h) => h.url.includes('/api/')).every((h) => /^Bearer /.test(h.headers.Authorization || h.headers.authorization)),
    ).toBe(true)

    // 2. Every access token expires: one refresh, every call replayed with the new generation.
    ref.control({ expireAllNow: true })
    let since = mark(ref)
    const sent = app.http.length
    await app.tap('home', 'run-all')
    texts = await app.waitForText('home', 'run 2 results 12/12')
    expect(resultLines(texts)).toEqual(expectedLines(200, '2'))
    await app.waitForText('home', 'session: logged in gen=2')
    expectOneRefreshAndReplays(hitsSince(ref, since), 2)
    expect(app.http.slice(sent).filter((h) => h.url.endsWith('/auth/refresh'))).toHaveLength(1)
    expect(ref.stats()).toMatchObject({ logins: 1, refreshes: 1, refreshAttempts: 1 })
    expect(loginNavigations(app)).toEqual([])

    // 3. The server revokes alice's refresh tokens (and expires access tokens): the refresh is refused, the
    //    config refuses a silent login right after that, so the session ends: one trip to the login page.
    ref.control({ revokeUser: 'alice', expireAllNow: true })
    since = mark(ref)
    await app.tap('home', 'run-all')
    texts = await app.waitForText('home', 'run 3 results 12/12')
    expect(resultLines(texts)).toEqual(expectedLines('ERR', '-', 'SESSION_EXPIRED'))
    await app.waitFor(() => app.pages().at(-1)?.route === LOGIN.slice(1), 5_000, 'login page open')
    await app.idle()
    expect(loginNavigations(app)).toEqual([{ api: 'navigateTo', url: LOGIN, ok: true }])
    const revoked = hitsSince(ref, since)
    expect(revoked.filter((h) => h.route === '/auth/refresh').map((h) => h.status)).toEqual([400])
    expect(revoked.filter((h) => h.route === '/auth/login')).toEqual([])
    expect(ref.stats()).toMatchObject({ logins: 1, refreshAttempts: 2 })
    await app.waitForText('login', 'session: logged out')

    // The login page's button (the app's own login call, setCredentials, returnAfterLogin): back to the page the
    // session ended on, which is right below: navigateBack, one home page on the stack, and it reloads its data.
    await app.tap('login', 'login')
    await app.waitFor(() => app.navigations.at(-1)?.api === 'navigateBack', 5_000, 'back to the home page')
    expect(app.navigations.at(-1)).toEqual({ api: 'navigateBack', url: LOGIN.slice(1), ok: true })
    expect(app.pages().map((p) => p.route)).toEqual([HOME.slice(1)])
    expect(loginNavigations(app)).toHaveLength(1)
    expect(ref.stats().logins).toBe(2)
    texts = await app.waitForText('home', 'run 4 results 12/12')
    expect(resultLines(texts)).toEqual(expectedLines(200, '1'))
    await app.waitForText('home', 'back after login: reloaded')
    expect(app.errors).toEqual([])
  })

  test('settings page: expiry as HTTP 200 + body code 99997 is refreshed the same way', async () => {
    ref.reset()
    const app = await load()
    await app.tap('home', 'run-all')
    await app.waitForText('home', 'run 1 results 12/12')
    await app.tap('home', 'go-settings')
    await app.waitFor(() => app.pages().at(-1)?.route === 'pages/settings/index', 5_000, 'settings page open')
    await app.waitForText('settings', 'session: logged in gen=1')
    await app.tap('settings', 'mode-99997')
    await app.waitForText('settings', 'control 200: expiry as body code 99997')
    expect(ref.control({}).expiryMode).toBe('99997')
    await app.tap('settings', 'expire-all')
    await app.waitForText('settings', 'control 200: access tokens expired')
    await app.tap('settings', 'go-home')
    await app.waitFor(() => app.pages().at(-1)?.route === HOME.slice(1), 5_000, 'back home')
    const since = mark(ref)
    await app.tap('home', 'run-all')
    const texts = await app.waitForText('home', 'run 2 results 12/12')
    expect(resultLines(texts)).toEqual(expectedLines(200, '2'))
    const hits = hitsSince(ref, since)
    expect(hits.filter((h) => h.expired).map((h) => h.status)).toEqual(Array(12).fill(200)) // HTTP 200 + code 99997
    // The download is not replayed: its body (the expiry answer) goes to a file the relay never reads.
    expectOneRefreshAndReplays(hits, 2, ['/api/download/demo.bin'])
    expect(app.errors).toEqual([])
  })
})

describe('taro h5 (Chromium, reference server)', () => {
  let browser: PwBrowser
  let dir: string
  let ref: ReferenceServer
  const opened: H5App[] = []
  const open = async () => {
    const app = await openH5App({ browser, dir, apiBase: ref.url, route: HOME })
    opened.push(app)
    // Taro's H5 router navigates with the History API: record every push/replace.
    await app.page.evaluate(`(() => {
      window.__navigations = []
      for (const m of ['pushState', 'replaceState']) {
        const original = history[m].bind(history)
        history[m] = (state, title, url) => { window.__navigations.push(m + ' ' + url); return original(state, title, url) }
      }
    })()`)
    return app
  }
  const navigations = (app: H5App) => app.page.evaluate<string[]>('window.__navigations')
  const onRoute = async (app: H5App, route: string) => {
    const deadline = Date.now() + 5_000
    while ((await app.page.evaluate<string>('location.hash')) !== `#${route}`) {
      if (Date.now() > deadline) throw new Error(`not on ${route}: ${await app.page.evaluate<string>('location.hash')}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  beforeAll(async () => {
    dir = builtDir('dist/h5', 'index.html', 'build:h5')
    browser = await launchBrowser()
    ref = await startServer()
  })
  afterAll(async () => {
    for (const app of opened) await app.close()
    await browser?.close()
    await ref?.close()
  })

  test("the build routes Taro.uploadFile/downloadFile through the plugin's wrapper of Taro's H5 API module", () => {
    const js = fs.readdirSync(path.join(dir, 'js')).filter((f) => f.endsWith('.js'))
    const withWrapper = js.filter((f) => fs.readFileSync(path.join(dir, 'js', f), 'utf8').includes('[tokenrelay] relayFileApi'))
    expect(withWrapper).toHaveLength(1)
    const generated = fs.readFileSync(path.join(PLAYGROUND, 'node_modules/.cache/tokenrelay/h5-api.js'), 'utf8')
    expect(generated).toContain('@tarojs/plugin-platform-h5/dist/runtime/apis/index.js')
  })

  test('silent login, one refresh for 12 expired calls (uploads and downloads too), and a revoked session ends on the login page once', async () => {
    ref.reset()
    const app = await open()
    await app.waitForText('session: logged out')

    await app.tap('run-all')
    let texts = await app.waitForText('run 1 results 12/12')
    expect(resultLines(texts)).toEqual(expectedLines(200, '1'))
    await app.waitForText('session: logged in gen=1')
    expect(ref.stats()).toMatchObject({ logins: 1, refreshAttempts: 0 })

    ref.control({ expireAllNow: true })
    let since = mark(ref)
    await app.tap('run-all')
    texts = await app.waitForText('run 2 results 12/12')
    expect(resultLines(texts)).toEqual(expectedLines(200, '2'))
    await app.waitForText('session: logged in gen=2')
    await app.waitForText('12 expired calls replayed with the new token')
    expectOneRefreshAndReplays(hitsSince(ref, since), 2)
    expect(ref.stats()).toMatchObject({ logins: 1, refreshes: 1, refreshAttempts: 1 })
    await app.screenshot('taro-h5-home')
    expect(await navigations(app)).toEqual([])

    ref.control({ revokeUser: 'alice', expireAllNow: true })
    since = mark(ref)
    await app.tap('run-all')
    await onRoute(app, LOGIN)
    await app.waitForText('Log in')
    expect(await navigations(app)).toEqual([`pushState #${LOGIN}`])
    expect(
      hitsSince(ref, since)
        .filter((h) => h.route.startsWith('/auth/'))
        .map((h) => `${h.route} ${h.status}`),
    ).toEqual(['/auth/refresh 400'])

    // Back (history), not a second home page; the home page reloads what it showed.
    await app.tap('login')
    await onRoute(app, HOME)
    expect(await navigations(app)).toEqual([`pushState #${LOGIN}`])
    expect(ref.stats().logins).toBe(2)
    await app.waitForText('session: logged in gen=1')
    texts = await app.waitForText('run 4 results 12/12')
    expect(resultLines(texts)).toEqual(expectedLines(200, '1'))
    expect(app.pageErrors).toEqual([])
  })

  test('settings page: expiry as HTTP 200 + body code 99997 is refreshed the same way', async () => {
    ref.reset()
    const app = await open()
    await app.tap('run-all')
    await app.waitForText('run 1 results 12/12')
    await app.tap('go-settings')
    await app.tap('mode-99997')
    await app.waitForText('control 200: expiry as body code 99997')
    await app.tap('expire-all')
    await app.waitForText('control 200: access tokens expired')
    await app.tap('go-home')
    await onRoute(app, HOME)
    const since = mark(ref)
    await app.tap('run-all')
    const texts = await app.waitForText('run 2 results 12/12')
    expect(resultLines(texts)).toEqual(expectedLines(200, '2'))
    const hits = hitsSince(ref, since)
    expect(hits.filter((h) => h.expired).map((h) => h.status)).toEqual(Array(12).fill(200))
    expectOneRefreshAndReplays(hits, 2, ['/api/download/demo.bin'])
    expect(app.pageErrors).toEqual([])
  })
})

describe('tokenrelay/taro/plugin in a real taro build', () => {
  beforeAll(() => {
    if (!fs.existsSync(path.join(PLAYGROUND, 'node_modules/tokenrelay/dist/taro/plugin.cjs'))) {
      throw new Error('tokenrelay is not installed in playground-taro: npm pack at the root, then npm install --no-save <tarball> there')
    }
  })

  test('a missing config file fails the build with a message naming the file', () => {
    const res = taroBuild('missing-config', { config: 'src/missing.config.ts' })
    expect(res.status).not.toBe(0)
    expect(res.output).toContain('[tokenrelay] config file not found: src/missing.config.ts')
  })

  test('a config file without a default export fails the build with a message naming the file', () => {
    const res = taroBuild(
      'no-default-export',
      { config: 'src/tokenrelay.config.ts' },
      {
        'tokenrelay.config.ts': "export const config = { baseURL: 'https://api.example.com' }\n",
      },
    )
    expect(res.status).not.toBe(0)
    expect(res.output).toContain('[tokenrelay] config file src/tokenrelay.config.ts has no default export')
  })
})
