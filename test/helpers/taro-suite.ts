// The tokenrelay/taro scenarios every Taro mini program target must pass, run by
// platforms/taro/taro.test.ts (weapp), platforms/taro/taro.alipay.test.ts (alipay) and
// platforms/taro/taro.tt.test.ts (tt, Douyin: wx's conventions, so it takes the weapp branches below): each
// file loads its own Taro runtime (see taro-runtime.ts). Assertions count on the reference server.
import { readFileSync } from 'node:fs'
import { afterEach, beforeAll, beforeEach, expect, it, vi } from 'vitest'
import { downloadContent, startServer } from '../../playground-server/server.js'
import type { RunningServer } from '../../playground-server/server.js'
import type { InstalledRelay, PlatformOptions } from '../../platforms/taro/index.js'
import type { ReturnAfterLogin } from '../../platforms/shared/types.js'
import { tempFile } from './mini-platform.js'
import { exchange, loginDirect, refresh, unauthorized as unauthorizedAt, wallClock } from './reference.js'
import type { SimSetup, TaroEnv } from './taro-runtime.js'
import { loadTaro } from './taro-runtime.js'
import { trackUnhandled } from './unhandled.js'

export type Res = { statusCode: number; data: any; header?: Record<string, string>; tempFilePath?: string; errMsg?: string }
type Loaded = Awaited<ReturnType<typeof loadTaro>>
type Obj = Record<string, any>

const raise = (error: Error) => {
  throw error
}

/**
 * axios over the REAL `@tarojs/plugin-http` runtime, wired as a Taro mini program build wires it: the build
 * defines `ENABLE_COOKIE` (false unless `enableCookie`) and provides the runtime's `XMLHttpRequest` to every
 * module (webpack ProvidePlugin); here `vi.stubGlobal` does both. The runtime imports `request` from
 * '@tarojs/taro', the module loadTaro() loaded (`t.Taro` is its default export): its sends go through
 * Taro's request chain, where install() added the relay's interceptor. Call it after `t.setup()` (it
 * wraps the current simulation); undo with `vi.unstubAllGlobals()`.
 */
async function pluginHttpAxios(t: TaroContext) {
  // With cookies off the plugin still sends `header.cookie = document.$$cookie`, i.e. `undefined`. The
  // platforms hand request options to the native side as JSON, where an undefined value is simply absent;
  // the simulation's node:http (or its Alipay string check) would throw on it instead. So the header
  // reaches the simulation as JSON would carry it; nothing else changes.
  const request = t.sim.api.request
  const asJson = (header: unknown) => header && JSON.parse(JSON.stringify(header))
  t.sim.api.request = (o: Obj) => request({ ...o, header: asJson(o.header), headers: asJson(o.headers) })
  vi.stubGlobal('ENABLE_COOKIE', false)
  const runtime: string = '@tarojs/plugin-http/dist/runtime.js' // untyped module: a string keeps tsc out
  const { XMLHttpRequest } = (await import(runtime)) as { XMLHttpRequest: new () => object }
  vi.stubGlobal('XMLHttpRequest', XMLHttpRequest)
  const { window } = (await import('@tarojs/runtime')) as unknown as { window: Obj } // the runtime sets window.XMLHttpRequest there
  // Imported after the stub: axios decides at its first import whether its xhr adapter is available.
  const axios = (await import('axios')).default
  return { XMLHttpRequest, taroWindow: window, client: axios.create({ baseURL: t.server.url, adapter: 'xhr' }) }
}

/** Registers the hooks; the returned object's getters are valid inside tests. */
export function useTaro(env: TaroEnv) {
  let loaded: Loaded
  let server: RunningServer
  let relay: InstalledRelay | undefined

  beforeAll(async () => {
    loaded = await loadTaro(env)
  })
  beforeEach(async () => {
    server = await startServer({ port: 0 })
    loaded.reset()
  })
  afterEach(async () => {
    relay?.uninstall()
    relay = undefined
    loaded.Taro.cleanInterceptors() // uninstalled interceptors stay as pass-throughs otherwise
    await server.close()
  })

  const ctx = {
    env,
    get Taro() {
      return loaded.Taro
    },
    get adapter() {
      return loaded.adapter
    },
    get sim() {
      return loaded.sim
    },
    get server() {
      return server
    },
    set server(s: RunningServer) {
      server = s
    },
    get relay() {
      return relay!
    },
    /** Taro.request, promise style. */
    get: (path: string, extra: object = {}) => loaded.Taro.request({ url: path, ...extra }) as Promise<Res> & { abort(): void },
    /** Both platforms need `fileType` on Alipay (Taro passes it through); weapp ignores it. */
    upload: (extra: object) =>
      loaded.Taro.uploadFile({ url: `${server.url}/api/upload`, name: 'file', fileType: 'image', ...extra }) as Promise<Res>,
    setup(options: PlatformOptions = {}, sim: SimSetup = {}) {
      loaded.reset(sim)
      relay = loaded.adapter.install({ baseURL: server.url, refresh, exchange, loginPage: '/pages/login/index', ...options })
      return relay
    },
    /** Logged in as alice (directly on the server), one login counted. */
    async loggedIn(options: PlatformOptions = {}, sim: SimSetup = {}) {
      const r = ctx.setup(options, sim)
      await r.setCredentials(await loginDirect(server.url))
      expect(server.stats().logins).toBe(1)
      return r
    },
    /** What a non-2xx answer looks like to a Taro caller on this platform (weapp resolves, Alipay rejects). */
    async settled(p: Promise<unknown>): Promise<{ ok: boolean; value: any }> {
      return p.then(
        (value) => ({ ok: true, value }),
        (value) => ({ ok: false, value }),
      )
    },
  }
  return ctx
}

export type TaroContext = ReturnType<typeof useTaro>

/** Scenarios shared by weapp, alipay and tt. */
export function sharedTaroTests(t: TaroContext) {
  it('20 requests + an upload + a download meeting an expired token: one refresh, every replay with the new token', async () => {
    await t.loggedIn()
    t.server.control({ expireAllNow: true })
    const file = tempFile('the file body')
    const results = await Promise.all([
      ...Array.from({ length: 20 }, (_, i) => t.get(`/api/item/${i}`)),
      t.upload({ filePath: file, formData: { note: 'hi' } }),
      t.Taro.downloadFile({ url: `${t.server.url}/api/download/report.bin` }) as Promise<Res>,
    ])
    const stats = t.server.stats()
    expect(stats.refreshes).toBe(1)
    expect(stats.logins).toBe(1)
    for (let i = 0; i < 20; i++) {
      expect(stats.hits[`/api/item/${i}`].map((h) => [h.status, h.generation])).toEqual([
        [401, 1],
        [200, 2],
      ])
      expect(results[i]).toMatchObject({ statusCode: 200, data: { generation: 2, path: `/api/item/${i}` } })
    }
    expect(stats.hits['/api/upload'].map((h) => [h.status, h.generation])).toEqual([
      [401, 1],
      [200, 2],
    ])
    expect(JSON.parse(results[20].data)).toMatchObject({ generation: 2, fields: { note: 'hi' }, file: { size: 13 } })
    expect(stats.hits['/api/download/report.bin'].map((h) => [h.status, h.generation])).toEqual([
      [401, 1],
      [200, 2],
    ])
    expect(results[21].statusCode).toBe(200)
    expect(readFileSync(results[21].tempFilePath!)).toEqual(downloadContent('report.bin'))
  })

  it('a late 401 for the old token is replayed with the new one and starts no second refresh', async () => {
    await t.loggedIn()
    t.server.control({ expireAllNow: true })
    const slow = t.get('/api/slow?delay=300')
    await t.get('/api/fast') // refreshes while the slow one's 401 is on its way back
    expect(t.server.stats().refreshes).toBe(1)
    await expect(slow).resolves.toMatchObject({ statusCode: 200, data: { generation: 2 } })
    expect(t.server.stats().refreshes).toBe(1)
    expect(t.server.stats().hits['/api/slow'].map((h) => [h.status, h.generation])).toEqual([
      [401, 1],
      [200, 2],
    ])
  })

  it('body-code expiry (HTTP 200 with code 99997) refreshes once too', async () => {
    await t.loggedIn({ expired: { codes: [99997] } })
    t.server.control({ expiryMode: '99997', expireAllNow: true })
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => t.get(`/api/b/${i}`)))
    expect(results.map((r) => [r.statusCode, r.data.code, r.data.generation])).toEqual(Array(5).fill([200, 0, 2]))
    expect(t.server.stats().refreshes).toBe(1)
  })

  it('an upload answered with a string body code is parsed, refreshed and the file re-sent', async () => {
    await t.loggedIn({ expired: { status: [401], codes: ['0002'] } })
    t.server.control({ expiryMode: '0002', expireAllNow: true })
    const res = await t.upload({ filePath: tempFile('abc') })
    expect(typeof res.data).toBe('string')
    expect(JSON.parse(res.data)).toMatchObject({ ok: true, code: 0, generation: 2, file: { size: 3 } })
    expect(t.server.stats().hits['/api/upload'].map((h) => [h.status, h.generation])).toEqual([
      [200, 1],
      [200, 2],
    ])
    expect(t.server.stats().refreshes).toBe(1)
  })

  it('a download still answered 401 after the session ended is a failure, not a success', async () => {
    await t.loggedIn({ exchange: undefined })
    t.server.control({ revokeUser: 'alice', expireAllNow: true })
    const success = vi.fn()
    const fail = vi.fn()
    const task = t.Taro.downloadFile({ url: `${t.server.url}/api/download/x.bin`, success, fail }) as Promise<Res>
    await expect(task).rejects.toMatchObject({ code: 'SESSION_EXPIRED', errMsg: 'downloadFile:fail SESSION_EXPIRED' })
    expect(success).not.toHaveBeenCalled()
    expect(fail).toHaveBeenCalledTimes(1)
    expect(fail.mock.calls[0][0]).toMatchObject({ code: 'SESSION_EXPIRED', errMsg: 'downloadFile:fail SESSION_EXPIRED' })
    expect(t.server.stats().hits['/api/download/x.bin'].map((h) => h.status)).toEqual([401])
  })

  const unauthorized = () => unauthorizedAt(t.server)

  it('back from the background past the known expiry: Taro.onAppShow starts the one refresh, the first requests collect no 401', async () => {
    const { wall, clock } = wallClock()
    const r = await t.loggedIn({ clock })
    t.sim.life.hide()
    wall.now = r.getCredentials()!.expiresAt! + 3 * 3600_000
    t.server.control({ expireAllNow: true })
    t.sim.life.show()
    await vi.waitUntil(() => t.server.stats().refreshes === 1, { timeout: 3000, interval: 5 })
    const answers = await Promise.all(['/api/a', '/api/b', '/api/c'].map((route) => t.get(route)))
    expect(answers.map((a) => a.data.generation)).toEqual([2, 2, 2])
    expect(unauthorized()).toBe(0)
    expect(t.server.stats()).toMatchObject({ refreshAttempts: 1, refreshes: 1 })
  })

  it('offline (Taro.getNetworkType / onNetworkStatusChange): a needed refresh waits; back online, one refresh, every waiter replayed', async () => {
    const { wall, clock } = wallClock()
    const r = await t.loggedIn({ clock, retry: { attempts: 2, backoffMs: 10 } })
    t.sim.life.setOnline(false)
    wall.now = r.getCredentials()!.expiresAt! + 1000
    t.server.control({ expireAllNow: true })
    let settled = 0
    const calls = ['/api/o1', '/api/o2', '/api/o3'].map((route) => t.get(route).finally(() => settled++))
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(settled).toBe(0)
    expect(t.server.stats().refreshAttempts).toBe(0)
    t.sim.life.setOnline(true)
    expect((await Promise.all(calls)).map((a) => a.data.generation)).toEqual([2, 2, 2])
    expect(t.server.stats()).toMatchObject({ refreshAttempts: 1, refreshes: 1 })
  })

  it('abort() on a request waiting for the refresh rejects it with ABORTED and it is never sent', async () => {
    await t.loggedIn()
    t.server.control({ expireAllNow: true, latencyMs: 100 })
    const first = t.get('/api/first')
    await vi.waitUntil(() => t.relay.refreshing)
    const fail = vi.fn()
    const complete = vi.fn()
    const task = t.Taro.request({ url: '/api/aborted', fail, complete })
    expect(typeof task.abort).toBe('function') // Taro's chain copies it from what the interceptor returns
    task.abort()
    await expect(task).rejects.toMatchObject({ code: 'ABORTED', errMsg: 'request:fail abort' })
    expect(fail).toHaveBeenCalledTimes(1)
    expect(complete).toHaveBeenCalledTimes(1)
    await expect(first).resolves.toMatchObject({ statusCode: 200, data: { generation: 2 } })
    expect(t.server.stats().hits['/api/aborted']).toBeUndefined()
    expect(t.server.stats().refreshes).toBe(1)
  })

  it("a caller's own signal (Taro H5's option) reaches each attempt and aborts a request waiting for the refresh", async () => {
    await t.loggedIn()
    const seen: unknown[] = []
    t.Taro.addInterceptor((chain: { requestParams: Record<string, any>; proceed(p: unknown): Promise<unknown> }) => {
      seen.push(chain.requestParams.signal)
      return chain.proceed(chain.requestParams)
    })
    const controller = new AbortController()
    await t.get('/api/with-signal', { signal: controller.signal })
    expect(seen).toEqual([controller.signal])
    t.server.control({ expireAllNow: true, latencyMs: 100 })
    const first = t.get('/api/first')
    await vi.waitUntil(() => t.relay.refreshing)
    const waiting = new AbortController()
    const task = t.get('/api/aborted', { signal: waiting.signal })
    waiting.abort()
    await expect(task).rejects.toMatchObject({ code: 'ABORTED', errMsg: 'request:fail abort' })
    await expect(first).resolves.toMatchObject({ statusCode: 200 })
    expect(t.server.stats().hits['/api/aborted']).toBeUndefined()
  })

  it('abort() on a request in flight aborts the platform task', async () => {
    await t.loggedIn()
    const task = t.get('/api/slow?delay=2000')
    await vi.waitUntil(() => t.sim.state.requests === 1)
    const started = Date.now()
    task.abort()
    await expect(task).rejects.toMatchObject({ code: 'ABORTED', errMsg: 'request:fail abort' })
    expect(Date.now() - started).toBeLessThan(1000)
  })

  it('silent re-login through Taro.login rescues a revoked refresh token', async () => {
    await t.loggedIn()
    t.server.control({ revokeUser: 'alice', expireAllNow: true })
    await expect(t.get('/api/rescued')).resolves.toMatchObject({ statusCode: 200, data: { generation: 1, user: 'alice' } })
    expect(t.server.stats()).toMatchObject({ logins: 2, refreshes: 0, refreshFailures: 1 })
    expect(t.sim.navigations).toEqual([])
  })

  it('the session ends once: every caller rejects with SESSION_EXPIRED, one navigation, and the way back', async () => {
    const onSessionExpired = vi.fn()
    await t.loggedIn({ onSessionExpired, exchange: undefined }, { pages: ['pages/home/index', 'pages/detail/index'] })
    t.sim.stack[1].options = { id: '7' }
    t.server.control({ revokeUser: 'alice', expireAllNow: true })
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => t.get(`/api/x/${i}`)))
    for (const r of results) {
      expect(r).toMatchObject({ status: 'rejected', reason: { code: 'SESSION_EXPIRED', errMsg: 'request:fail SESSION_EXPIRED' } })
    }
    expect(onSessionExpired).toHaveBeenCalledTimes(1)
    expect(t.server.stats().refreshAttempts).toBe(1)
    expect(t.sim.navigations).toEqual([{ api: 'navigateTo', url: '/pages/login/index' }])
    expect(t.sim.storage.has('tokenrelay')).toBe(false)
    const returns: ReturnAfterLogin[] = []
    t.relay.onReturnAfterLogin((to) => returns.push(to))
    await t.relay.setCredentials({ accessToken: 'x' })
    t.relay.returnAfterLogin()
    // The page below the login page is the one to return to: back to it, no second copy on the stack.
    await vi.waitUntil(() => t.sim.navigations.length === 2)
    expect(t.sim.navigations[1]).toEqual({ api: 'navigateBack', url: 'pages/login/index' })
    expect(t.sim.stack.map((p) => [p.route, p.options])).toEqual([
      ['pages/home/index', {}],
      ['pages/detail/index', { id: '7' }],
    ])
    expect(returns).toEqual([{ url: '/pages/detail/index?id=7', via: 'navigateBack' }])
  })

  it('the way back opens the page (redirectTo) when it is not right below the login page: one copy of each page', async () => {
    await t.loggedIn({ exchange: undefined }, { pages: Array.from({ length: 10 }, (_, i) => `pages/p${i}/index`) })
    t.server.control({ revokeUser: 'alice', expireAllNow: true })
    await t.get('/api/x').catch(() => {})
    await vi.waitUntil(() => t.sim.stack.at(-1)?.route === 'pages/login/index')
    await t.relay.setCredentials(await loginDirect(t.server.url, 'code-alice-again'))
    t.relay.returnAfterLogin()
    await vi.waitUntil(() => t.sim.navigations.length === 2)
    expect(t.sim.navigations[1]).toEqual({ api: 'redirectTo', url: '/pages/p9/index' })
    expect(t.sim.stack.map((p) => p.route)).toEqual(Array.from({ length: 10 }, (_, i) => `pages/p${i}/index`))
  })

  it('a full page stack uses redirectTo; a tabBar login page (from the app config) uses switchTab', async () => {
    await t.loggedIn({ exchange: undefined }, { pages: Array.from({ length: 10 }, (_, i) => `pages/p${i}/index`) })
    t.server.control({ revokeUser: 'alice', expireAllNow: true })
    await t.get('/api/x').catch(() => {})
    expect(t.sim.navigations).toEqual([{ api: 'redirectTo', url: '/pages/login/index' }])
    t.relay.uninstall()
    await t.server.close()
    t.server = await startServer({ port: 0 })
    await t.loggedIn({ exchange: undefined }, { tabBar: ['pages/home/index', 'pages/login/index'] })
    t.server.control({ revokeUser: 'alice', expireAllNow: true })
    await t.get('/api/x').catch(() => {})
    expect(t.sim.navigations).toEqual([{ api: 'switchTab', url: '/pages/login/index' }])
  })

  it('a relative URL with no baseURL is named in one warning, at the first request that has one', async () => {
    const warn = vi.fn()
    t.setup({ baseURL: undefined, retry: { attempts: 0 }, logger: { log() {}, warn } })
    await t.settled(t.get('/api/relative'))
    await t.settled(t.get('/api/again'))
    const said = warn.mock.calls.map((c) => String(c[0])).filter((m) => m.includes('relative URL'))
    expect(said).toEqual([
      expect.stringMatching(
        /^\[tokenrelay\] relative URL '\/api\/relative' with no baseURL: mini programs cannot send it\. Set baseURL in the install\(\) options\.$/,
      ),
    ])
  })

  it('a failing navigation is reported, not left as an unhandled rejection', async () => {
    const warn = vi.fn()
    await t.loggedIn({ exchange: undefined, logger: { log() {}, warn } })
    t.sim.api.navigateTo = (o: Record<string, any>) => o.fail({ errMsg: 'navigateTo:fail page not found' })
    t.server.control({ revokeUser: 'alice', expireAllNow: true })
    await expect(t.get('/api/x')).rejects.toMatchObject({ code: 'SESSION_EXPIRED' })
    await vi.waitUntil(() => warn.mock.calls.length > 0)
    await new Promise((r) => setTimeout(r, 50)) // Taro calls `fail` and rejects its promise: reported once
    expect(warn.mock.calls).toEqual([
      ['[tokenrelay] navigation to the login page failed: navigateTo:fail page not found', { errMsg: 'navigateTo:fail page not found' }],
    ])
  })

  it('callback style: success and complete get the replayed result only, once', async () => {
    await t.loggedIn()
    t.server.control({ expireAllNow: true })
    const events: string[] = []
    const task = t.Taro.request({
      url: '/api/cb',
      success: (r: Res) => events.push(`success ${r.statusCode} gen${r.data.generation}`),
      fail: (e: unknown) => events.push(`fail ${JSON.stringify(e)}`),
      complete: (r: Res) => events.push(`complete ${r.statusCode}`),
    })
    expect(typeof task.abort).toBe('function')
    await expect(task).resolves.toMatchObject({ statusCode: 200, data: { generation: 2 } })
    await new Promise((r) => setTimeout(r, 50))
    expect(events).toEqual(['success 200 gen2', 'complete 200'])
    expect(t.server.stats().hits['/api/cb'].map((h) => h.status)).toEqual([401, 200])
  })

  it("uploadFile/downloadFile from tokenrelay/taro: Taro's own before install(), through the relay after it, never relayed twice", async () => {
    const hits = (route: string) => (t.server.stats().hits[route] || []).map((h) => [h.status, h.generation])
    // Not installed: Taro's own function, no token.
    const bare = await t.settled(t.adapter.downloadFile({ url: `${t.server.url}/api/download/before.bin` }))
    expect(bare.value).toMatchObject({ statusCode: 401 })
    expect(hits('/api/download/before.bin')).toEqual([[401, null]])
    await t.loggedIn()
    t.server.control({ expireAllNow: true })
    const [up, down] = await Promise.all([
      t.adapter.uploadFile({
        url: `${t.server.url}/api/upload`,
        filePath: tempFile('via tokenrelay'),
        name: 'file',
        fileType: 'image',
      } as never),
      t.adapter.downloadFile({ url: `${t.server.url}/api/download/after.bin` }),
    ])
    expect(JSON.parse((up as Res).data)).toMatchObject({ generation: 2, file: { size: 14 } })
    expect(down.statusCode).toBe(200)
    // One attempt per send: the replaced Taro.uploadFile is not wrapped around it a second time.
    expect(hits('/api/upload')).toEqual([
      [401, 1],
      [200, 2],
    ])
    expect(hits('/api/download/after.bin')).toEqual([
      [401, 1],
      [200, 2],
    ])
    expect(t.server.stats().refreshes).toBe(1)
  })

  it('upload and download callbacks get the replayed result only', async () => {
    await t.loggedIn()
    t.server.control({ expireAllNow: true })
    const events: string[] = []
    await new Promise((done) =>
      t.Taro.uploadFile({
        url: `${t.server.url}/api/upload`,
        filePath: tempFile('x'),
        name: 'file',
        fileType: 'image',
        success: (r: Res) => events.push(`upload ${r.statusCode} gen${JSON.parse(r.data).generation}`),
        fail: () => events.push('upload fail'),
        complete: done,
      }),
    )
    await new Promise((done) =>
      t.Taro.downloadFile({
        url: `${t.server.url}/api/download/cb.bin`,
        success: (r: Res) => events.push(`download ${r.statusCode}`),
        fail: () => events.push('download fail'),
        complete: done,
      }),
    )
    expect(events).toEqual(['upload 200 gen2', 'download 200'])
  })

  it("params are not mutated between attempts: the caller's header is untouched, each attempt gets a fresh one", async () => {
    await t.loggedIn()
    // Added after install(): runs inside ours, once per attempt, and sees exactly what Taro is handed.
    const attempts: { params: Record<string, any>; header: Record<string, string>; copy: Record<string, any> }[] = []
    t.Taro.addInterceptor((chain: { requestParams: Record<string, any>; proceed(p: unknown): Promise<unknown> }) => {
      const params = chain.requestParams
      attempts.push({ params, header: params.header, copy: { ...params, header: { ...params.header } } })
      return chain.proceed(params)
    })
    t.server.control({ expireAllNow: true })
    const header = { 'X-Trace': 't1' }
    const options = { url: '/api/params', method: 'POST', data: { a: 1 }, header, success: vi.fn(), fail: vi.fn() }
    const before = { ...options }
    await expect(t.Taro.request(options)).resolves.toMatchObject({ statusCode: 200, data: { generation: 2, body: { a: 1 } } })
    expect(header).toEqual({ 'X-Trace': 't1' })
    expect(options).toEqual(before)
    // The refresh goes through the chain too (app interceptors apply to it) but is never relayed.
    expect(attempts.map((a) => a.copy.url.replace(t.server.url, ''))).toEqual(['/api/params', '/auth/refresh', '/api/params'])
    expect(attempts[1].copy.header).toEqual({})
    const [first, second] = [attempts[0], attempts[2]]
    expect(first.params).not.toBe(second.params)
    expect(first.header).not.toBe(second.header)
    for (const a of [first, second]) {
      expect(a.header).not.toBe(header)
      expect(a.copy).not.toHaveProperty('success')
      expect(a.copy).not.toHaveProperty('fail')
      expect(a.copy).not.toHaveProperty('complete')
      expect(a.copy).toMatchObject({ url: `${t.server.url}/api/params`, method: 'POST', data: { a: 1 } })
      expect(a.copy.header).toEqual({ 'X-Trace': 't1', Authorization: expect.stringMatching(/^Bearer /) })
    }
    expect(first.copy.header.Authorization).not.toBe(second.copy.header.Authorization)
    // Why attempts are built from a snapshot: Taro's request functions mutate what they are handed.
    if (t.env === 'alipay')
      expect(first.params).not.toHaveProperty('header') // moved to `headers`, then deleted
    else expect(typeof first.params.success).toBe('function') // Taro's own promise callbacks
    expect(options.success).toHaveBeenCalledTimes(1)
    expect(options.fail).not.toHaveBeenCalled()
  })

  it('listeners registered on the returned task reach every attempt (copied through the chain)', async () => {
    await t.loggedIn()
    const seen: string[] = []
    t.Taro.addInterceptor((chain: { requestParams: Record<string, any>; proceed(p: unknown): Record<string, any> }) => {
      const p = chain.proceed(chain.requestParams)
      if (!chain.requestParams.url.endsWith('/api/listen')) return p // the refresh
      const n = seen.filter((s) => s.startsWith('attempt')).length + 1
      seen.push(`attempt ${n}`)
      p.onHeadersReceived = () => seen.push(`onHeadersReceived on attempt ${n}`)
      return p
    })
    t.server.control({ expireAllNow: true })
    const task = t.Taro.request({ url: '/api/listen' })
    task.onHeadersReceived(() => {})
    await task
    expect(seen).toEqual(['attempt 1', 'onHeadersReceived on attempt 1', 'attempt 2', 'onHeadersReceived on attempt 2'])
  })

  it('stores credentials through Taro storage and survives a throwing setStorageSync', async () => {
    await t.loggedIn()
    expect(JSON.parse(t.sim.storage.get('tokenrelay') as string)).toMatchObject({ accessToken: expect.any(String) })
    const errors: unknown[] = []
    t.relay.on('error', (e) => errors.push(e.error))
    t.sim.api.setStorageSync = () => {
      throw new Error('setStorageSync:fail exceed storage max size 10MB')
    }
    t.server.control({ expireAllNow: true })
    await expect(t.get('/api/after-full')).resolves.toMatchObject({ data: { generation: 2 } })
    expect(String(errors[0])).toContain('exceed storage')
  })

  it('reads stored credentials through Taro storage at start-up', async () => {
    const first = await t.loggedIn()
    const stored = JSON.parse(t.sim.storage.get('tokenrelay') as string)
    first.uninstall()
    const again = t.adapter.install({ baseURL: t.server.url, refresh, exchange })
    try {
      await again.ready
      expect(again.getCredentials()).toMatchObject({ accessToken: stored.accessToken })
      await expect(t.get('/api/restored')).resolves.toMatchObject({ statusCode: 200, data: { generation: 1 } })
      expect(t.server.stats().logins).toBe(1)
    } finally {
      again.uninstall()
    }
  })

  it('auth: false sends no token, never refreshes, and a 401 there reaches the caller as the platform reports it', async () => {
    await t.loggedIn()
    const res = await t.settled(t.get('/api/public', { auth: false }))
    expect(t.server.stats().hits['/api/public'].map((h) => [h.status, h.generation])).toEqual([[401, null]])
    expect(t.server.stats().refreshes).toBe(0)
    if (t.env === 'alipay') expect(res).toMatchObject({ ok: false, value: { error: 19, status: 401 } })
    else expect(res).toMatchObject({ ok: true, value: { statusCode: 401 } })
  })

  it('no token goes to another host', async () => {
    await t.loggedIn()
    const other = await startServer({ port: 0 })
    try {
      await t.settled(t.get(`${other.url}/api/elsewhere`))
      await t.settled(t.Taro.downloadFile({ url: `${other.url}/api/download/e.bin` }))
      expect(other.stats().hits['/api/elsewhere'].map((h) => [h.status, h.generation])).toEqual([[401, null]])
      expect(other.stats().hits['/api/download/e.bin'].map((h) => [h.status, h.generation])).toEqual([[401, null]])
      expect(t.server.stats().refreshes).toBe(0)
    } finally {
      await other.close()
    }
  })

  it('a 403 insufficient_scope is final: no refresh, delivered the platform way', async () => {
    await t.loggedIn()
    const fail = vi.fn()
    const res = await t.settled(t.Taro.request({ url: '/api/forbidden', fail }))
    expect(t.server.stats().refreshes).toBe(0)
    expect(t.server.stats().hits['/api/forbidden']).toHaveLength(1)
    if (t.env === 'alipay') {
      expect(res).toMatchObject({ ok: false, value: { error: 19, status: 403, data: { error: 'insufficient_scope' } } })
      expect(fail).toHaveBeenCalledWith(res.value)
    } else {
      expect(res).toMatchObject({ ok: true, value: { statusCode: 403, data: { error: 'insufficient_scope' } } })
      expect(fail).not.toHaveBeenCalled()
    }
  })

  it('uninstall restores upload/download and leaves the interceptor a pass-through', async () => {
    const originals = { uploadFile: t.Taro.uploadFile, downloadFile: t.Taro.downloadFile, request: t.Taro.request }
    const r = await t.loggedIn()
    expect(t.Taro.uploadFile).not.toBe(originals.uploadFile)
    expect(t.Taro.downloadFile).not.toBe(originals.downloadFile)
    expect(t.Taro.request).toBe(originals.request) // request is covered by the interceptor, never replaced
    r.uninstall()
    expect(t.Taro.uploadFile).toBe(originals.uploadFile)
    expect(t.Taro.downloadFile).toBe(originals.downloadFile)
    t.server.control({ expireAllNow: true })
    await t.settled(t.Taro.request({ url: `${t.server.url}/api/after` }))
    expect(t.server.stats().hits['/api/after'].map((h) => [h.status, h.generation])).toEqual([[401, null]])
    expect(t.server.stats().refreshes).toBe(0)
  })

  it('a second install() replaces the first instead of stacking on it', async () => {
    const originals = { uploadFile: t.Taro.uploadFile, downloadFile: t.Taro.downloadFile }
    const first = t.setup()
    const second = t.adapter.install({ baseURL: t.server.url, refresh, exchange })
    const res = await t.get('/api/twice')
    expect(res).toMatchObject({ statusCode: 200, data: { generation: 1 } })
    expect(t.server.stats().hits['/api/twice']).toHaveLength(1)
    expect(t.server.stats().logins).toBe(1) // one silent login, by the second relay only
    expect(first.getCredentials()).toBeNull()
    second.uninstall()
    expect(t.Taro.uploadFile).toBe(originals.uploadFile)
    expect(t.Taro.downloadFile).toBe(originals.downloadFile)
  })

  it('Taro.cleanInterceptors() removes the interceptor; install() again restores it', async () => {
    await t.loggedIn()
    t.Taro.cleanInterceptors()
    t.server.control({ expireAllNow: true })
    await t.settled(t.get(`${t.server.url}/api/cleaned`))
    expect(t.server.stats().hits['/api/cleaned'].map((h) => h.generation)).toEqual([null])
    t.setup()
    await expect(t.get('/api/reinstalled')).resolves.toMatchObject({ statusCode: 200 })
  })
  it('install() twice: the second relay replaces the first, one warning names both call sites, uninstall() is idempotent', async () => {
    const originals = { uploadFile: t.Taro.uploadFile, downloadFile: t.Taro.downloadFile }
    const warn = vi.fn()
    const logger = { log() {}, warn }
    const first = t.setup({ logger })
    await first.setCredentials(await loginDirect(t.server.url, 'code-alice-first'))
    const second = t.adapter.install({ baseURL: t.server.url, refresh, logger })
    try {
      await second.setCredentials(await loginDirect(t.server.url, 'code-bob-second'))
      await expect(t.get('/api/who')).resolves.toMatchObject({ statusCode: 200, data: { user: 'bob' } })
      expect(t.server.stats().hits['/api/who'].map((h) => h.user)).toEqual(['bob'])
      expect(warn).toHaveBeenCalledTimes(1)
      expect(warn.mock.calls[0][0]).toMatch(/^\[tokenrelay\] tokenrelay\/taro installed twice/)
      expect(warn.mock.calls[0][0].match(/taro-suite\.ts:\d+:\d+/g)).toHaveLength(2)
      first.uninstall()
      expect(t.Taro.uploadFile).not.toBe(originals.uploadFile)
      expect(t.adapter.installedRelay()).toBe(second)
    } finally {
      second.uninstall()
      second.uninstall()
    }
    expect(t.Taro.uploadFile).toBe(originals.uploadFile)
    expect(t.Taro.downloadFile).toBe(originals.downloadFile)
    expect(t.adapter.installedRelay()).toBeUndefined()
    expect(warn).toHaveBeenCalledTimes(1)
  })

  it("a manual install() over the CLI plugin's is warned about: the plugin, its config file and its loginPage are named", async () => {
    const warn = vi.fn()
    const logger = { log() {}, warn }
    t.sim.stack.splice(0) // (loaded.reset() ran in beforeEach)
    const byPlugin = t.adapter.pluginInstall('src/tokenrelay.config.ts', () =>
      t.adapter.install({ baseURL: t.server.url, refresh, loginPage: '/pages/login/index', logger }),
    )
    expect(warn).not.toHaveBeenCalled()
    const manual = t.adapter.install({ baseURL: t.server.url, refresh, logger })
    try {
      expect(warn).toHaveBeenCalledTimes(1)
      expect(warn.mock.calls[0][0]).toMatch(
        /^\[tokenrelay\] tokenrelay\/taro\/plugin already installed the relay from src\/tokenrelay\.config\.ts; a manual install\(\) \(at [^)]*taro-suite\.ts:\d+:\d+\) replaces it/,
      )
      expect(warn.mock.calls[0][0]).toContain("loginPage '/pages/login/index'")
      expect(t.adapter.installedRelay()).toBe(manual)
      byPlugin.uninstall() // already uninstalled by the manual install: harmless
      expect(t.adapter.installedRelay()).toBe(manual)
    } finally {
      manual.uninstall()
    }
  })

  it('a throwing success or fail callback: complete still runs, last; the error is reported once; no unhandled rejection', async () => {
    const unhandled = trackUnhandled()
    try {
      const warn = vi.fn()
      await t.loggedIn({ exchange: undefined, logger: { log() {}, warn } })
      const events: string[] = []
      const thrown = [new Error('success threw'), new Error('fail threw')]
      const record = (name: string, error?: Error) => () => (events.push(name), error && raise(error))
      t.Taro.request({ url: '/api/ok', success: record('success', thrown[0]), fail: record('fail'), complete: record('complete') })
      await vi.waitUntil(() => events.length >= 2)
      t.server.control({ revokeUser: 'alice', expireAllNow: true })
      t.Taro.request({ url: '/api/ended', success: record('success'), fail: record('fail', thrown[1]), complete: record('complete') })
      await vi.waitUntil(() => events.length >= 4)
      await unhandled.settle()
      expect(events).toEqual(['success', 'complete', 'fail', 'complete'])
      for (const error of thrown) expect(warn.mock.calls.filter((c) => c.includes(error))).toHaveLength(1)
      expect(unhandled.reasons).toEqual([])
    } finally {
      unhandled.stop()
    }
  })

  it("axios over @tarojs/plugin-http: the XMLHttpRequest is the plugin runtime's, and a plain call carries the token through Taro.request", async () => {
    await t.loggedIn()
    const sends: string[] = []
    t.Taro.addInterceptor((chain: { requestParams: Record<string, any>; proceed(p: unknown): unknown }) => {
      const { url, header } = chain.requestParams
      sends.push(`${url.replace(t.server.url, '')} ${header.Authorization ? 'token' : 'none'} ${header['X-Trace']}`)
      return chain.proceed(chain.requestParams)
    })
    try {
      const { XMLHttpRequest, taroWindow, client } = await pluginHttpAxios(t)
      expect(taroWindow.XMLHttpRequest).toBe(XMLHttpRequest) // set by the plugin runtime on Taro's window
      expect(String(XMLHttpRequest)).toBe('function XMLHttpRequest() { [native code] }') // the plugin's disguise
      const res = await client.get('/api/plain', { headers: { 'X-Trace': 'ax1' } })
      expect(res).toMatchObject({ status: 200, data: { generation: 1, user: 'alice', path: '/api/plain' } })
      expect(t.server.stats().hits['/api/plain'].map((h) => [h.status, h.user, h.generation])).toEqual([[200, 'alice', 1]])
      expect(sends).toEqual(['/api/plain token ax1']) // one send, through Taro's chain, inside the relay's interceptor
      expect(t.server.stats()).toMatchObject({ logins: 1, refreshAttempts: 0 })
    } finally {
      vi.unstubAllGlobals()
    }
  })

  it('axios over @tarojs/plugin-http: 6 concurrent calls meeting an expired token, one refresh, all 6 resolve with the replayed answer', async () => {
    await t.loggedIn()
    try {
      const { client } = await pluginHttpAxios(t)
      t.server.control({ expireAllNow: true })
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => client.get(`/api/ax/${i}`)))
      const stats = t.server.stats()
      expect(stats).toMatchObject({ logins: 1, refreshAttempts: 1, refreshes: 1 })
      for (let i = 0; i < 6; i++) {
        expect(stats.hits[`/api/ax/${i}`].map((h) => [h.status, h.generation])).toEqual([
          [401, 1],
          [200, 2],
        ])
        expect(results[i]).toMatchObject({ status: 200, data: { generation: 2, path: `/api/ax/${i}` } })
      }
    } finally {
      vi.unstubAllGlobals()
    }
  })

  it('axios over @tarojs/plugin-http (callbacks passed, the promise dropped): a session end rejects axios, no unhandled rejection', async () => {
    await t.loggedIn({ exchange: undefined })
    const unhandled = trackUnhandled()
    try {
      const { client } = await pluginHttpAxios(t)
      await expect(client.get('/api/before')).resolves.toMatchObject({ status: 200, data: { generation: 1 } })
      t.server.control({ revokeUser: 'alice', expireAllNow: true })
      // No status on the relay's SESSION_EXPIRED failure: the plugin fires `onerror`, axios rejects as a network error.
      await expect(client.get('/api/after')).rejects.toMatchObject({ code: 'ERR_NETWORK' })
      await unhandled.settle()
      expect(unhandled.reasons).toEqual([])
      expect(t.server.stats().hits['/api/after'].map((h) => h.status)).toEqual([401])
      expect(t.server.stats()).toMatchObject({ refreshAttempts: 1, refreshes: 0 })
      expect(t.sim.navigations).toEqual([{ api: 'navigateTo', url: '/pages/login/index' }])
    } finally {
      unhandled.stop()
      vi.unstubAllGlobals()
    }
  })

  it('a Taro.login that yields no code ends the session: SESSION_EXPIRED, exchange never called, one navigation, no retry', async () => {
    const exchangeCode = vi.fn(exchange)
    t.setup({ exchange: exchangeCode, retry: { attempts: 2, backoffMs: 10 } })
    let logins = 0
    // Taro H5's login stub succeeds without a code; on Alipay Taro.login is my.getAuthCode (authCode → code).
    t.sim.api[t.env === 'alipay' ? 'getAuthCode' : 'login'] = (o: Obj) =>
      void (logins++, setTimeout(() => o.success({ errMsg: 'login:ok' })))
    await expect(t.get('/api/first')).rejects.toMatchObject({ code: 'SESSION_EXPIRED', errMsg: 'request:fail SESSION_EXPIRED' })
    expect(exchangeCode).not.toHaveBeenCalled()
    expect(logins).toBe(1)
    expect(t.sim.navigations).toEqual([{ api: 'navigateTo', url: '/pages/login/index' }])
  })
}
