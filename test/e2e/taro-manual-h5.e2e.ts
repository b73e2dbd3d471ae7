/**
 * End to end: Taro H5 with a MANUAL install() (no tokenrelay/taro/plugin), built for real by `taro build
 * --type h5` inside playground-taro (so it uses the packed tokenrelay installed there) and run in Chromium
 * against the reference server, page and API on one origin.
 *
 * Without the plugin, the H5 build compiles `Taro.uploadFile(...)`/`Taro.downloadFile(...)` in app code into
 * direct imports of Taro's H5 API module, which install() cannot reach: install() says so once in the console,
 * those calls go out without the token (and a 401 there is not refreshed), while `uploadFile`/`downloadFile`
 * from tokenrelay/taro carry the token and are refreshed and replayed like `Taro.request`.
 */
import * as fs from 'node:fs'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { startServer } from '../../playground-server/server.js'
import { launchBrowser, openH5App, type H5App, type PwBrowser } from './h5-runtime'
import { PLAYGROUND, buildTaroApp, hitsSince, mark, type ReferenceServer } from './taro-flow'

const APP = `import type { PropsWithChildren } from 'react'
import { install } from 'tokenrelay/taro'

// The README's manual install, without tokenrelay/taro/plugin.
install({
  baseURL: (window as any).__TOKENRELAY_API__,
  refresh: async ({ refreshToken, request }) => (await request({ url: '/auth/refresh', method: 'POST', data: { refreshToken } })).data as any,
  login: async ({ request }) => (await request({ url: '/auth/login', method: 'POST', data: { code: 'code-alice-h5manual' + Date.now() } })).data as any,
})

export default function App({ children }: PropsWithChildren<any>) {
  return children
}
`

const PAGE = `import { View } from '@tarojs/components'
import Taro from '@tarojs/taro'
import { downloadFile, uploadFile } from 'tokenrelay/taro'

const api = (): string => (window as any).__TOKENRELAY_API__
const file = () => URL.createObjectURL(new Blob(['manual install upload'], { type: 'text/plain' }))
const outcome = (p: Promise<any>) => p.then((r) => r.statusCode, (e) => 'fail ' + (e && (e.statusCode || e.errMsg || e.message)))

// Driven by the test: Taro's own calls (the build compiles them into direct imports) and tokenrelay/taro's.
Object.assign(window as any, {
  __get: () => outcome(Taro.request({ url: api() + '/api/manual' })),
  __taroUpload: () => outcome(Taro.uploadFile({ url: api() + '/api/upload', filePath: file(), name: 'file' })),
  __taroDownload: () => outcome(Taro.downloadFile({ url: api() + '/api/download/taro.bin' })),
  __relayUpload: () => outcome(uploadFile({ url: api() + '/api/upload', filePath: file(), name: 'file' })),
  __relayDownload: () => outcome(downloadFile({ url: api() + '/api/download/relay.bin' })),
})

export default function Index() {
  return <View id='ready'>ready</View>
}
`

const WARNING = 'tokenrelay/taro on H5 without tokenrelay/taro/plugin'

describe('taro h5, manual install() without the CLI plugin (Chromium, reference server)', () => {
  let browser: PwBrowser
  let ref: ReferenceServer
  let app: H5App
  let dir = ''

  beforeAll(async () => {
    if (!fs.existsSync(`${PLAYGROUND}/node_modules/tokenrelay/dist/taro.js`))
      throw new Error('tokenrelay is not installed in playground-taro: run npm run test:e2e')
    const built = buildTaroApp('manual-h5', 'h5', {
      'app.config.ts': "export default defineAppConfig({ pages: ['pages/index/index'] })\n",
      'app.ts': APP,
      'pages/index/index.tsx': PAGE,
    })
    dir = built.dir
    if (built.status !== 0) throw new Error(`taro build --type h5 failed:\n${built.output.slice(-3000)}`)
    browser = await launchBrowser()
    ref = await startServer()
    app = await openH5App({ browser, dir: built.dist, apiBase: ref.url, proxyApi: true, route: '/pages/index/index' })
    await app.waitForText('ready')
  }, 180_000)
  afterAll(async () => {
    await app?.close()
    await browser?.close()
    await ref?.close()
    if (dir) fs.rmSync(dir, { recursive: true, force: true })
  })

  const call = (fn: string) => app.page.evaluate<number | string>(`window.${fn}()`)
  const uploads = (since: number) =>
    hitsSince(ref, since)
      .filter((h) => h.route === '/api/upload')
      .map((h) => [h.status, h.generation])

  test('install() warns once, in the console, that Taro.uploadFile/downloadFile are not covered', () => {
    const warnings = app.consoleMessages.filter((m) => m.includes(WARNING))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/^warning: \[tokenrelay\] /)
    expect(warnings[0]).toContain("call uploadFile/downloadFile from 'tokenrelay/taro'")
  })

  test("uploadFile/downloadFile from tokenrelay/taro carry the token and are refreshed; Taro's own go out without it", async () => {
    expect(await call('__get')).toBe(200) // silent login, then the request with its token
    expect(ref.stats()).toMatchObject({ logins: 1, refreshes: 0 })

    let since = mark(ref)
    expect(await call('__taroUpload')).toBe(401)
    expect(await call('__taroDownload')).toBe(401)
    // Compiled into direct imports: no token, and the 401 is not refreshed.
    expect(uploads(since)).toEqual([[401, null]])
    expect(hitsSince(ref, since).find((h) => h.route === '/api/download/taro.bin')).toMatchObject({ status: 401, generation: null })
    expect(ref.stats().refreshAttempts).toBe(0)

    since = mark(ref)
    expect(await call('__relayUpload')).toBe(200)
    expect(await call('__relayDownload')).toBe(200)
    expect(uploads(since)).toEqual([[200, 1]])

    // Both at once on an expired token: one refresh, both replayed.
    ref.control({ expireAllNow: true })
    since = mark(ref)
    expect(await app.page.evaluate('Promise.all([window.__relayUpload(), window.__relayDownload()])')).toEqual([200, 200])
    expect(uploads(since)).toEqual([
      [401, 1],
      [200, 2],
    ])
    expect(
      hitsSince(ref, since)
        .filter((h) => h.route === '/api/download/relay.bin')
        .map((h) => [h.status, h.generation]),
    ).toEqual([
      [401, 1],
      [200, 2],
    ])
    expect(ref.stats()).toMatchObject({ refreshes: 1, refreshAttempts: 1 })
    expect(app.pageErrors).toEqual([])
  })
})
