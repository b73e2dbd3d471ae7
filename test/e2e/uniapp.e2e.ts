/**
 * End to end: the uni-app playground's three outputs (built by scripts/e2e.mjs with the PACKED library,
 * installed by `tokenRelay()` in its vite.config.ts) against the reference server on 127.0.0.1.
 *
 * mp-weixin / mp-alipay run under Node (miniprogram-runtime.ts, real HTTP; Alipay answers non-2xx on `fail`),
 * H5 runs in Chromium. Each tells one story, step by step on the same app instance, so the tests of a
 * describe depend on running in order, each from where the previous one left the app and the server: the
 * describes are `describe.sequential`, and after a failed step the later ones are skipped (stepsInOrder()).
 * The story:
 *   launch → log in (mini programs: silently, `exchange` with the uni.login code; H5: the login page, since
 *   H5 has no platform code) → expireAllNow + "Run all" (10 requests, an upload, a download): exactly one
 *   refresh, every call replayed with the new generation, every row 200 → revokeUser: the session ends on
 *   the login page exactly once (mini programs: only when the server also refuses the silent re-login;
 *   when it does not, the re-login rescues the session) → log in again → body-code expiry (99997).
 *
 * Launch, the login page and the settings page are covered by the same story.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { startServer } from '../../playground-server/server.js'
import { REPO_ROOT, launchBrowser, openH5App, type H5App, type PwBrowser } from './h5-runtime'
import { loadMiniProgram, type MiniPlatform, type MiniProgram } from './miniprogram-runtime'
import {
  HOME,
  LOGIN,
  RUN_ROUTES,
  expectedLines,
  failedLine,
  hitsSince,
  mark,
  recordH5Navigations,
  refuseSilentLogin,
  resultLines,
  stepsInOrder,
  uniBuild,
  until,
  waitForH5Route,
  type ReferenceServer,
} from './uniapp-session'

const MINI: Array<{ name: string; dir: string; platform: MiniPlatform; build: string }> = [
  { name: 'uni mp-weixin', dir: 'playground-uniapp/dist/build/mp-weixin', platform: 'wx', build: 'npm run build:mp-weixin' },
  { name: 'uni mp-alipay', dir: 'playground-uniapp/dist/build/mp-alipay', platform: 'my', build: 'npm run build:mp-alipay' },
  { name: 'uni mp-toutiao', dir: 'playground-uniapp/dist/build/mp-toutiao', platform: 'tt', build: 'npm run build:mp-toutiao' },
]
const H5_DIR = 'playground-uniapp/dist/build/h5'

function builtDir(dir: string, marker: string, build: string): string {
  const full = path.join(REPO_ROOT, dir)
  if (!fs.existsSync(path.join(full, marker)))
    throw new Error(`${dir} is not built: run \`cd playground-uniapp && ${build}\` (after installing the packed library) first`)
  return full
}

/**
 * A run in body-code mode (200 + code 99997): every call replayed once with `generation`, except the download.
 * A download's body lands in a file the app sees only as a path, so a 200 carrying code 99997 cannot be
 * recognized there: it is not replayed and its file holds the expiry JSON. (Status expiry, 401, is replayed.)
 */
function expectBodyCodeRun(hits: ReturnType<typeof hitsSince>, generation: number) {
  expect(hits['/api/download/demo.bin']).toEqual([[200, generation - 1, true]])
  for (const route of RUN_ROUTES.slice(0, -1)) {
    expect(hits[route], route).toEqual([
      [200, generation - 1, true],
      [200, generation, false],
    ])
  }
}

/** Every route of the run hit exactly `expected` (`[status, generation, expired]` in order). */
function expectEveryRoute(hits: ReturnType<typeof hitsSince>, expected: Array<[number, number | null, boolean]>) {
  expect(Object.keys(hits).sort()).toEqual([...RUN_ROUTES].sort())
  for (const route of RUN_ROUTES) expect(hits[route], route).toEqual(expected)
}

describe.sequential.each(MINI)('$name (Node runtime): tokenrelay installed by the Vite plugin', (o) => {
  stepsInOrder()
  let server: ReferenceServer
  let app: MiniProgram
  let runs = 0
  // uni-mp-toutiao adds `__id__` (its EventChannel id) to every navigateTo url: not the app's query, left out.
  const loginNavigations = () =>
    app.navigations.filter((n) => n.url.split('?')[0] === LOGIN).map((n) => ({ ...n, url: n.url.replace(/[?&]__id__=\d+$/, '') }))
  /** Taps "Run all" on the home page and waits for its 12 results. */
  const runAll = async () => {
    runs += 1
    await app.tap('home', 'run-all')
    return resultLines(await app.waitForText('home', `run ${runs} results 12/12`))
  }

  beforeAll(async () => {
    const dir = builtDir(o.dir, 'app.js', o.build)
    server = await startServer()
    app = await loadMiniProgram({ dir, platform: o.platform, apiBase: server.url })
  })
  afterAll(async () => {
    await app?.close()
    await server?.close()
  })

  test('launches on the home page with tokenrelay installed and no session yet', async () => {
    expect(app.navigations[0]).toEqual({ api: 'launch', url: HOME, ok: true })
    const texts = await app.waitForText('home', 'run 0 results 0/0')
    expect(texts).toContain('session out idle')
    expect(app.errors).toEqual([])
    expect(app.missingApis).toEqual([])
  })

  test('the first run logs in silently (uni.login code → exchange) once and replays all 12: 200, generation 1', async () => {
    const before = mark(server)
    expect(resultLines(await runAll())).toEqual(expectedLines(1))
    expect(server.stats()).toMatchObject({ logins: 1, refreshAttempts: 0 })
    expect(app.loginCodes).toHaveLength(1)
    if (o.platform === 'tt') expect(app.loginForce).toEqual([false]) // no host login popup from a silent login
    // Held back while the silent login runs (the interceptor cancels each call and tokenrelay sends it once the
    // login is over): every call goes out once, with the new token; none without one.
    expectEveryRoute(hitsSince(server, before), [[200, 1, false]])
    const stored = JSON.parse(String(app.storage.get('tokenrelay')))
    expect(stored).toMatchObject({ accessToken: expect.any(String), refreshToken: expect.stringMatching(/^rt_/) })
    await app.waitForText('home', 'session in idle')
  })

  test('expireAllNow: exactly one refresh, every request + the upload + the download replayed with generation 2', async () => {
    const before = mark(server)
    const exchanges = app.http.length
    server.control({ expireAllNow: true })
    expect(resultLines(await runAll())).toEqual(expectedLines(2))
    expect(server.stats()).toMatchObject({ refreshes: 1, refreshAttempts: 1, logins: 1 })
    expectEveryRoute(hitsSince(server, before), [
      [401, 1, true],
      [200, 2, false],
    ])
    const sent = app.http.slice(exchanges)
    expect(sent.filter((h) => h.url.endsWith('/auth/refresh'))).toHaveLength(1)
    // Each replay carried the new token.
    const replays = sent.filter((h) => h.status === 200 && !h.url.endsWith('/auth/refresh'))
    expect(replays).toHaveLength(12)
    expect(new Set(replays.map((h) => h.headers.Authorization || h.headers.authorization)).size).toBe(1)
    const texts = await app.waitForText('home', 'event run 2 done, 12 replayed')
    expect(texts).toContain('event refresh started (expired)')
    expect(texts).toContain('event refresh ok')
    expect(app.errors).toEqual([])
  })

  test('revokeUser: the refresh is refused, the silent re-login rescues the session, no login page', async () => {
    const before = mark(server)
    server.control({ revokeUser: 'alice', expireAllNow: true })
    expect(resultLines(await runAll())).toEqual(expectedLines(1)) // a new token family
    expect(server.stats()).toMatchObject({ refreshAttempts: 2, refreshFailures: 1, logins: 2 })
    expectEveryRoute(hitsSince(server, before), [
      [401, 2, true],
      [200, 1, false],
    ])
    expect(loginNavigations()).toEqual([])
  })

  test('revokeUser when the server also refuses the re-login: every call fails once, exactly one navigation to the login page', async () => {
    const restore = refuseSilentLogin(app)
    const before = mark(server)
    server.control({ revokeUser: 'alice', expireAllNow: true })
    const lines = await runAll()
    expect(lines).toHaveLength(12)
    for (const line of lines) expect(line).toMatch(failedLine('SESSION_EXPIRED'))
    expect(server.stats()).toMatchObject({ refreshAttempts: 3, refreshFailures: 2, logins: 2, loginFailures: 1 })
    expectEveryRoute(hitsSince(server, before), [[401, 1, true]]) // nothing replayed
    await app.waitFor(() => app.pages().at(-1)?.route === LOGIN.slice(1), 5_000, 'login page on top')
    await new Promise((r) => setTimeout(r, 200)) // nothing else arrives late
    expect(loginNavigations()).toEqual([{ api: 'navigateTo', url: LOGIN, ok: true }])
    expect(app.storage.has('tokenrelay')).toBe(false)
    await app.waitForText('home', 'event session ended SESSION_EXPIRED')
    restore()
  })

  test('login page: the button logs in (code → POST /auth/login → setCredentials) and goes back to the home page, which reloads', async () => {
    await app.waitForText('login', 'session out idle')
    const navigations = app.navigations.length
    await app.tap('login', 'login')
    // 'login 200', then returnAfterLogin(): the page the session ended on is right below the login page.
    await app.waitFor(() => app.navigations.length === navigations + 1, 5_000, 'the way back')
    expect(app.navigations.at(-1)).toEqual({ api: 'navigateBack', url: LOGIN.slice(1), ok: true })
    expect(server.stats().logins).toBe(3)
    expect(loginNavigations()).toHaveLength(1)
    expect(app.pages().map((p) => p.route)).toEqual([HOME.slice(1)]) // one home page, not two
    // The same home page, logged in: its onReturnAfterLogin() runs the calls that failed again.
    await app.waitForText('home', 'session in idle')
    runs += 1
    expect(resultLines(await app.waitForText('home', `run ${runs} results 12/12`))).toEqual(expectedLines(1))
    await app.waitForText('home', 'event back after login')
  })

  test('settings page: body-code expiry (200 + code 99997) is refreshed the same way', async () => {
    await app.tap('home', 'go-settings')
    await app.waitFor(() => app.pages().at(-1)?.route === 'pages/settings/index', 5_000, 'settings page open')
    await app.tap('settings', 'mode-99997')
    await app.waitForText('settings', 'control 200')
    expect(server.control({}).expiryMode).toBe('99997')
    const expiredBefore = server.control({}).expireAllBefore
    await app.tap('settings', 'expire-all')
    await app.waitFor(() => server.control({}).expireAllBefore !== expiredBefore, 5_000, 'expireAllNow applied')
    app.global[o.platform].navigateBack({ delta: 1 })
    await app.waitFor(() => app.pages().at(-1)?.route === HOME.slice(1), 5_000, 'back on the home page')
    const before = mark(server)
    const refreshes = server.stats().refreshes
    expect(resultLines(await runAll())).toEqual(expectedLines(2))
    expect(server.stats().refreshes).toBe(refreshes + 1)
    expectBodyCodeRun(hitsSince(server, before), 2)
    expect(loginNavigations()).toHaveLength(1)
    expect(app.errors).toEqual([])
  })

  test('login page: log out, then "Log in silently" (useTokenRelay().login() → exchange) logs in again', async () => {
    await app.tap('home', 'go-login')
    await app.waitFor(() => app.pages().at(-1)?.route === LOGIN.slice(1), 5_000, 'login page open')
    await app.waitForText('login', 'session in idle')
    await app.tap('login', 'logout')
    await app.waitForText('login', 'logged out')
    await app.waitForText('login', 'session out idle')
    expect(app.storage.has('tokenrelay')).toBe(false)
    const logins = server.stats().logins
    await app.tap('login', 'login-silent')
    await app.waitForText('login', 'silent login ok')
    await app.waitForText('login', 'session in idle')
    expect(server.stats().logins).toBe(logins + 1)
    // Nothing to return to (the user came here by themselves), and no session end on the way.
    expect(app.pages().at(-1)?.route).toBe(LOGIN.slice(1))
    expect(loginNavigations()).toHaveLength(2) // the session end, and this visit
    expect(app.errors).toEqual([])
  })
})

describe.sequential('uni h5 (Chromium): tokenrelay installed by the Vite plugin', () => {
  stepsInOrder()
  let browser: PwBrowser
  let server: ReferenceServer
  let app: H5App
  let navigations: () => Promise<string[]>
  let runs = 0
  /** Navigations to the login page recorded after `from` (an index into the recorded list). */
  const loginNavigationsSince = async (from: number) =>
    (await navigations()).slice(from).filter((n) => n.split(' ')[1].split('?')[0] === LOGIN)
  const tapRunAll = async () => {
    runs += 1
    await app.tap('run-all')
  }
  const runAll = async () => {
    await tapRunAll()
    return resultLines(await app.waitForText(`run ${runs} results 12/12`))
  }
  /**
   * Logs in with the login page's button; tokenrelay goes back (history) to the home page below it, which
   * runs its calls again (onReturnAfterLogin): all 200 with generation 1, a new token family.
   */
  const logIn = async () => {
    const logins = server.stats().logins
    const recorded = (await navigations()).length
    await app.tap('login')
    await waitForH5Route(app, HOME)
    expect(server.stats().logins).toBe(logins + 1)
    expect((await navigations()).slice(recorded)).toEqual([]) // back, neither a push nor a replace
    runs += 1
    expect(resultLines(await app.waitForText(`run ${runs} results 12/12`))).toEqual(expectedLines(1))
  }

  beforeAll(async () => {
    const dir = builtDir(H5_DIR, 'index.html', 'npm run build:h5')
    browser = await launchBrowser()
    server = await startServer()
    app = await openH5App({ browser, dir, apiBase: server.url, route: HOME })
    navigations = await recordH5Navigations(app)
  })
  afterAll(async () => {
    await app?.close()
    await browser?.close()
    await server?.close()
  })

  test('without a session (H5 has no platform login code) the first run ends on the login page, once', async () => {
    await app.waitForText('run 0 results 0/0')
    expect(await app.texts()).toContain('session out idle')
    const before = mark(server)
    await tapRunAll()
    await waitForH5Route(app, LOGIN)
    expect(await loginNavigationsSince(0)).toEqual([`push ${LOGIN}`])
    // Held back while the login was tried: nothing reached the server without a token (it used to be all 12).
    expect(hitsSince(server, before)).toEqual({})
    expect(server.stats()).toMatchObject({ logins: 0, refreshAttempts: 0 })
    await app.waitForText('session out idle')
    // Back on the home page (kept alive by uni-h5's router) every call reports the end of the session.
    await app.page.evaluate('history.back()')
    await waitForH5Route(app, HOME)
    const lines = resultLines(await app.waitForText(`run ${runs} results 12/12`))
    expect(lines).toHaveLength(12)
    for (const line of lines) expect(line).toMatch(failedLine('SESSION_EXPIRED'))
    // The shared config's `exchange` was tried: uni-h5's uni.login is "not supported", which ends the session.
    const texts = await app.texts()
    expect(texts).toContain('event login started (login)')
    expect(texts).toContain('event session ended SESSION_EXPIRED')
    expect(app.pageErrors).toEqual([])
  })

  test('login page: the button logs in (POST /auth/login → setCredentials) and returns to the home page', async () => {
    await app.tap('go-login')
    await waitForH5Route(app, LOGIN)
    await logIn()
    expect(await app.texts()).toContain('session in idle')
  })

  test('expireAllNow: exactly one refresh, every request + the upload + the download replayed with generation 2', async () => {
    const before = mark(server)
    server.control({ expireAllNow: true })
    expect(await runAll()).toEqual(expectedLines(2))
    expect(server.stats()).toMatchObject({ refreshes: 1, refreshAttempts: 1, logins: 1 })
    expectEveryRoute(hitsSince(server, before), [
      [401, 1, true],
      [200, 2, false],
    ])
    const texts = await app.waitForText(`event run ${runs} done, 12 replayed`)
    expect(texts).toContain('event refresh started (expired)')
    expect(texts).toContain('session in idle')
    await app.screenshot('uni-h5-home')
    expect(app.pageErrors).toEqual([])
  })

  test('revokeUser: the refresh is refused and the session ends on the login page exactly once', async () => {
    const before = mark(server)
    const from = (await navigations()).length
    server.control({ revokeUser: 'alice', expireAllNow: true })
    await tapRunAll()
    await waitForH5Route(app, LOGIN)
    await app.waitForText('session out idle')
    expect(server.stats()).toMatchObject({ refreshAttempts: 2, refreshFailures: 1, logins: 1 })
    // In a browser the upload starts later than the requests (its file is made first), so the refused refresh
    // can be over before it is sent: it is then held and rejected without going out. Either way no route
    // went out twice, and none with a token the server did not issue for this session.
    const hits = hitsSince(server, before)
    expect(hits['/api/item/0']).toEqual([[401, 2, true]])
    for (const [route, seen] of Object.entries(hits)) {
      expect(RUN_ROUTES).toContain(route)
      expect(seen, route).toEqual([[401, 2, true]])
    }
    await new Promise((r) => setTimeout(r, 300)) // nothing else arrives late
    expect(Object.keys(hitsSince(server, before)).sort()).toEqual(Object.keys(hits).sort())
    expect(await loginNavigationsSince(from)).toEqual([`push ${LOGIN}`])
    expect(app.pageErrors).toEqual([])
  })

  test('logging in again returns home; the next run answers 200 with generation 1 (a new token family)', async () => {
    await logIn()
    expect(await runAll()).toEqual(expectedLines(1))
    expect(server.stats()).toMatchObject({ logins: 2, refreshAttempts: 2 })
    expect(app.pageErrors).toEqual([])
  })

  test('settings page: body-code expiry (200 + code 99997) is refreshed the same way', async () => {
    await app.tap('go-settings')
    await waitForH5Route(app, '/pages/settings/index')
    await app.tap('mode-99997')
    await app.waitForText('control 200')
    expect(server.control({}).expiryMode).toBe('99997')
    const expiredBefore = server.control({}).expireAllBefore
    await app.tap('expire-all')
    await until(() => server.control({}).expireAllBefore !== expiredBefore, 'expireAllNow applied')
    await app.page.evaluate('history.back()')
    await waitForH5Route(app, HOME)
    const before = mark(server)
    const refreshes = server.stats().refreshes
    expect(await runAll()).toEqual(expectedLines(2))
    expect(server.stats().refreshes).toBe(refreshes + 1)
    expectBodyCodeRun(hitsSince(server, before), 2)
    expect(app.pageErrors).toEqual([])
  })
})

describe('tokenrelay/uniapp/vite in a real uni build: what a wrong config says', () => {
  test('a config module without a default export stops the build naming it, not the import the plugin generated', () => {
    const res = uniBuild(
      'no-default-export',
      { config: 'src/tokenrelay.config.ts' },
      { 'tokenrelay.config.ts': "export const config = { baseURL: 'https://api.example.com' }\n" },
    )
    expect(res.status).not.toBe(0)
    expect(res.output).toContain('[tokenrelay] config module src/tokenrelay.config.ts has no default export: it needs `export default`')
    expect(res.output).not.toContain('is not exported by')
  })

  test('a wrong config path stops the build with one message, said once', () => {
    const res = uniBuild('missing-config', { config: 'src/missing.config.ts' })
    expect(res.status).not.toBe(0)
    const lines = res.output.split('\n').filter((l) => l.includes('config module src/missing.config.ts not found'))
    expect(lines).toHaveLength(1)
    expect(lines[0].trim()).toMatch(/^\[tokenrelay\] config module/) // not "[tokenrelay:uniapp] [plugin tokenrelay:uniapp] [tokenrelay] …"
  })

  test('an unknown plugin option is warned about, with the one probably meant; the build goes on', () => {
    const res = uniBuild('unknown-option', { config: 'src/tokenrelay.config.ts', mian: 'src/main.ts' })
    expect(res.status).toBe(0)
    expect(res.output).toContain("[tokenrelay] tokenRelay() in vite.config.ts: unknown option 'mian' (did you mean 'main'?)")
  })
})
