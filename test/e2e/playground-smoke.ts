/**
 * Smoke suites for the playground outputs (called by taro.e2e.ts and uniapp.e2e.ts, one framework each): each must launch, fire its 10 requests + upload + download
 * and render every result; its login and settings pages must reach the reference server.
 *
 * Nothing is built here. Build first (one at a time: the machine is small):
 *   (cd playground-taro && npm ci && npm run build:weapp && npm run build:alipay && npm run build:h5)
 *   (cd playground-uniapp && npm ci && npm run build:mp-weixin && npm run build:mp-alipay && npm run build:h5)
 * Run:
 *   npx vitest run --config test/e2e/vitest.config.ts
 * H5 needs playwright-core (repo root devDependency) and Debian chromium (`apt-get install -y chromium`).
 *
 * Servers: the "all 200" smoke uses the inline stand-in (api-server.ts) because the playgrounds do not
 * attach tokens yet and the reference server (playground-server/) refuses token-less calls. Login,
 * settings and the "baseline" case use the reference server. The baseline pins what each platform does
 * with a 401 today (wx: success path; Alipay: fail path with `status`); once tokenrelay is installed in the
 * playgrounds, that case turns into "log in, then all 200 with one refresh".
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { startServer } from '../../playground-server/server.js'
import { startInlineApiServer, type InlineApiServer } from './api-server'
import { loadMiniProgram, type MiniPlatform, type MiniProgram } from './miniprogram-runtime'
import { REPO_ROOT, launchBrowser, openH5App, type H5App, type PwBrowser } from './h5-runtime'

type ReferenceServer = Awaited<ReturnType<typeof startServer>>

interface Output {
  name: string
  dir: string
  build: string
}

export type Framework = 'taro' | 'uni'

const MINI: Array<Output & { platform: MiniPlatform }> = [
  { name: 'taro weapp', dir: 'playground-taro/dist/weapp', platform: 'wx', build: 'cd playground-taro && npm run build:weapp' },
  { name: 'taro alipay', dir: 'playground-taro/dist/alipay', platform: 'my', build: 'cd playground-taro && npm run build:alipay' },
  { name: 'uni mp-weixin', dir: 'playground-uniapp/dist/build/mp-weixin', platform: 'wx', build: 'cd playground-uniapp && npm run build:mp-weixin' },
  { name: 'uni mp-alipay', dir: 'playground-uniapp/dist/build/mp-alipay', platform: 'my', build: 'cd playground-uniapp && npm run build:mp-alipay' },
]

const H5: Output[] = [
  { name: 'taro h5', dir: 'playground-taro/dist/h5', build: 'cd playground-taro && npm run build:h5' },
  { name: 'uni h5', dir: 'playground-uniapp/dist/build/h5', build: 'cd playground-uniapp && npm run build:h5' },
]

const HOME = '/pages/home/index'
const SESSION_KEY = 'playground.session'

function builtDir(o: Output, marker: string): string {
  const dir = path.join(REPO_ROOT, o.dir)
  if (!fs.existsSync(path.join(dir, marker))) throw new Error(`${o.dir} is not built: run \`${o.build}\` first`)
  return dir
}

/** The 12 lines the home page renders when every call got `status`. */
function expectedLines(status: number, generation: string): string[] {
  const lines: string[] = []
  for (let i = 0; i < 10; i++) lines.push(`#${i} request ${status} gen=${generation}`)
  lines.push(`#10 upload ${status} gen=${generation}`)
  lines.push(`#11 download ${status} gen=-`)
  return lines
}

function resultLines(texts: string[]): string[] {
  return texts.filter((t) => /^#\d+ /.test(t))
}

function expectInlineHits(api: InlineApiServer): void {
  const items = api.hits.filter((h) => h.method === 'GET' && h.path.startsWith('/api/item/')).map((h) => h.path).sort()
  expect(items).toEqual(Array.from({ length: 10 }, (_, i) => `/api/item/${i}`).sort())
  const uploads = api.hits.filter((h) => h.path === '/api/upload')
  expect(uploads).toHaveLength(1)
  expect(String(uploads[0].headers['content-type'])).toMatch(/^multipart\/form-data; boundary=/)
  expect(api.hits.filter((h) => h.path === '/api/download/demo.bin')).toHaveLength(1)
}

/**
 * Registers the smoke suites of one framework's outputs. `baseline` keeps the "no tokenrelay: every call
 * renders 401" case, which stops being true once the library is installed in that playground.
 */
export function smokeSuites(framework: Framework, options: { baseline: boolean }): void {
  describe.each(MINI.filter((o) => o.name.startsWith(framework)))('$name (Node runtime)', (o) => {
    let dir: string
    let inline: InlineApiServer
    let ref: ReferenceServer
    const opened: MiniProgram[] = []
    const load = async (apiBase: string) => {
      const app = await loadMiniProgram({ dir, platform: o.platform, apiBase })
      opened.push(app)
      return app
    }

    beforeAll(async () => {
      dir = builtDir(o, 'app.js')
      inline = await startInlineApiServer()
      ref = await startServer()
    })
    afterAll(async () => {
      for (const app of opened) await app.close()
      await inline?.close()
      await ref?.close()
    })

    test('launches on the home page', async () => {
      const app = await load(inline.url)
      expect(app.navigations[0]).toEqual({ api: 'launch', url: HOME, ok: true })
      expect(app.pages().map((p) => p.route)).toEqual([HOME.slice(1)])
      await app.waitForText('home', 'run 0 results 0/0')
      expect(app.errors).toEqual([])
      expect(app.missingApis).toEqual([])
    })

    test('home fires 10 requests, an upload and a download; all 12 render 200', async () => {
      inline.hits.length = 0
      const app = await load(inline.url)
      await app.tap('home', 'run-all')
      const texts = await app.waitForText('home', 'run 1 results 12/12')
      expect(resultLines(texts)).toEqual(expectedLines(200, '1'))
      expectInlineHits(inline)
      expect(app.http.map((h) => h.status)).toEqual(Array(12).fill(200))
      expect(app.maxInFlightSeen).toBeLessThanOrEqual(10)
      expect(app.errors).toEqual([])
    })

    test('login page: platform login code → POST /auth/login (reference server) → session stored', async () => {
      const app = await load(ref.url)
      await app.tap('home', 'go-login')
      await app.waitFor(() => app.pages().at(-1)?.route === 'pages/login/index', 5_000, 'login page open')
      expect(app.navigations.at(-1)).toEqual({ api: 'navigateTo', url: '/pages/login/index', ok: true })
      await app.tap('login', 'login')
      await app.waitForText('login', 'login 200')
      expect(app.loginCodes).toHaveLength(1)
      const session = app.storage.get(SESSION_KEY) as { accessToken?: string; refreshToken?: string }
      expect(session.accessToken).toEqual(expect.any(String))
      expect(session.refreshToken).toMatch(/^rt_/)
      expect(ref.stats().logins).toBe(1)
    })

    test('settings page posts /__control to the reference server', async () => {
      const app = await load(ref.url)
      await app.tap('home', 'go-settings')
      await app.waitFor(() => app.pages().at(-1)?.route === 'pages/settings/index', 5_000, 'settings page open')
      await app.tap('settings', 'mode-99997')
      await app.waitForText('settings', 'control 200')
      expect(ref.control({}).expiryMode).toBe('99997')
      await app.tap('settings', 'mode-401')
      await app.waitFor(() => ref.control({}).expiryMode === '401', 5_000, 'expiryMode back to 401')
      await app.tap('settings', 'expire-all')
      await app.waitFor(() => ref.control({}).expireAllBefore !== null, 5_000, 'expireAllNow applied')
    })

    if (options.baseline) test('baseline without tokenrelay: the reference server refuses all 12 and each renders 401', async () => {
      ref.reset() // expiryMode back to '401' whatever the settings test left
      const app = await load(ref.url)
      await app.tap('home', 'run-all')
      const texts = await app.waitForText('home', 'run 1 results 12/12')
      expect(resultLines(texts)).toEqual(expectedLines(401, '-'))
      expect(app.errors).toEqual([])
    })
  })

  describe('H5 (Chromium)', () => {
    let browser: PwBrowser
    beforeAll(async () => {
      browser = await launchBrowser()
    })
    afterAll(async () => {
      await browser?.close()
    })

    describe.each(H5.filter((o) => o.name.startsWith(framework)))('$name', (o) => {
      let dir: string
      let inline: InlineApiServer
      let ref: ReferenceServer
      const opened: H5App[] = []
      const open = async (apiBase: string, route = HOME) => {
        const app = await openH5App({ browser, dir, apiBase, route })
        opened.push(app)
        return app
      }

      beforeAll(async () => {
        dir = builtDir(o, 'index.html')
        inline = await startInlineApiServer()
        ref = await startServer()
      })
      afterAll(async () => {
        for (const app of opened) await app.close()
        await inline?.close()
        await ref?.close()
      })

      test('home fires 10 requests, an upload and a download; all 12 render 200', async () => {
        inline.hits.length = 0
        const app = await open(inline.url)
        await app.waitForText('run 0 results 0/0')
        await app.tap('run-all')
        const texts = await app.waitForText('run 1 results 12/12')
        await app.screenshot(`${o.name.replace(' ', '-')}-home`)
        expect(resultLines(texts)).toEqual(expectedLines(200, '1'))
        expectInlineHits(inline)
        expect(app.pageErrors).toEqual([])
      })

      test('login and settings pages reach the reference server', async () => {
        const app = await open(ref.url)
        await app.tap('go-login')
        await app.tap('login')
        await app.waitForText('login 200')
        expect(ref.stats().logins).toBe(1)
        await app.goto(HOME)
        await app.tap('go-settings')
        await app.tap('mode-99997')
        await app.waitForText('control 200')
        expect(ref.control({}).expiryMode).toBe('99997')
        expect(app.pageErrors).toEqual([])
      })

      if (options.baseline) test('baseline without tokenrelay: the reference server refuses all 12 and each renders 401', async () => {
        ref.reset() // expiryMode back to '401' whatever the settings test left
        const app = await open(ref.url)
        await app.tap('run-all')
        const texts = await app.waitForText('run 1 results 12/12')
        expect(resultLines(texts)).toEqual(expectedLines(401, '-'))
      })
    })
  })
}
