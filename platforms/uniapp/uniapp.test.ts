// tokenrelay/uniapp against uni-app's REAL API runtime (@dcloudio/uni-mp-weixin and uni-mp-alipay,
// dist/uni.api.esm.js): `uni.request` & co. run through uni's own interceptor, promisify and protocol code,
// on simulated `wx` / `my` that do real HTTP to the reference server.
import { readFileSync } from 'node:fs'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { downloadContent, startServer } from '../../playground-server/server.js'
import type { RunningServer } from '../../playground-server/server.js'
import { tempFile } from '../../test/helpers/mini-platform.js'
import { exchange, loginDirect, refresh } from '../../test/helpers/reference.js'
import { loadUni } from '../../test/helpers/uni-runtime.js'
import { trackUnhandled } from '../../test/helpers/unhandled.js'
import type { UniPlatform, UniSim } from '../../test/helpers/uni-runtime.js'
import type { RefreshContext } from '../../src/index.js'
import { install } from './index.js'
import type { InstalledRelay, PlatformOptions } from './index.js'

// A uni build aliases 'vue' to its mini program runtime; the API runtime imports injectHook from it.
// @ts-expect-error @dcloudio/uni-mp-vue ships no types
vi.mock('vue', () => import('@dcloudio/uni-mp-vue'))

let server: RunningServer
let sim: UniSim
let relay: InstalledRelay | undefined

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

type Res = { statusCode: number; data: any; tempFilePath?: string; errMsg?: string }
/** The global `uni`, as app code sees it. */
const uni = new Proxy({} as Record<string, (...a: any[]) => any>, { get: (_, name: string) => (globalThis as any).uni[name] })
/** Promise style: no callbacks, so uni returns a promise. */
const get = (path: string, extra: object = {}) => uni.request({ url: path, ...extra }) as Promise<Res> & { abort(): void }
/** Callback style: uni returns the task; every callback call is recorded. */
function withCallbacks(api: 'request' | 'uploadFile' | 'downloadFile', options: object) {
  const seen = { success: [] as any[], fail: [] as any[], complete: [] as any[], order: [] as string[] }
  const record = (name: 'success' | 'fail' | 'complete') => (r: any) => {
    seen[name].push(r)
    seen.order.push(name)
  }
  const task = uni[api]({ ...options, success: record('success'), fail: record('fail'), complete: record('complete') })
  return { task, seen, settled: () => seen.complete.length > 0 }
}
const upload = (extra: object = {}) => ({ url: `${server.url}/api/upload`, filePath: tempFile('the file body'), name: 'file', fileType: 'image', ...extra })
const hits = (route: string) => (server.stats().hits[route] || []).map((h) => [h.status, h.generation])

async function setup(platform: UniPlatform, options: PlatformOptions = {}, pages?: string[]) {
  sim = await loadUni(platform, { pages })
  relay = install({ baseURL: server.url, refresh, exchange, loginPage: '/pages/login/index', ...options })
  return relay
}

let logins = 0
/** Logged in as alice (directly at the server, so no request has gone through uni yet). */
async function loggedIn(platform: UniPlatform, options: PlatformOptions = {}, pages?: string[]) {
  const r = await setup(platform, options, pages)
  const code = `code-alice-direct-${++logins}`
  await r.setCredentials(await loginDirect(server.url, code))
  return r
}

beforeEach(async () => {
  server = await startServer({ port: 0 })
})
afterEach(async () => {
  relay?.uninstall()
  relay = undefined
  vi.unstubAllGlobals()
  await server.close()
})

describe.each(['mp-weixin', 'mp-alipay'] as UniPlatform[])('tokenrelay/uniapp on %s', (platform) => {
  const alipay = platform === 'mp-alipay'

  it('20 requests + an upload + a download meeting an expired token: one refresh, every replay with generation 2', async () => {
    await loggedIn(platform)
    server.control({ expireAllNow: true })
    const results = await Promise.all([
      ...Array.from({ length: 20 }, (_, i) => get(`/api/item/${i}`)),
      uni.uploadFile(upload({ formData: { note: 'hi' } })) as Promise<Res>,
      uni.downloadFile({ url: `${server.url}/api/download/report.bin` }) as Promise<Res>,
    ])
    const stats = server.stats()
    expect(stats.refreshes).toBe(1)
    expect(stats.refreshAttempts).toBe(1)
    for (let i = 0; i < 20; i++) {
      expect(hits(`/api/item/${i}`)).toEqual([
        [401, 1],
        [200, 2],
      ])
      expect(results[i]).toMatchObject({ statusCode: 200, data: { generation: 2, path: `/api/item/${i}` } })
    }
    expect(hits('/api/upload')).toEqual([
      [401, 1],
      [200, 2],
    ])
    expect(JSON.parse(results[20].data)).toMatchObject({ generation: 2, fields: { note: 'hi' }, file: { size: 13 } })
    expect(hits('/api/download/report.bin')).toEqual([
      [401, 1],
      [200, 2],
    ])
    expect(results[21]).toMatchObject({ statusCode: 200, errMsg: 'downloadFile:ok' })
    expect(readFileSync(results[21].tempFilePath!)).toEqual(downloadContent('report.bin'))
  })

  it('callback and promise callers both get the replayed result, each callback exactly once, nobody pending', async () => {
    await loggedIn(platform)
    server.control({ expireAllNow: true })
    const started = Date.now()
    const callbacks = Array.from({ length: 10 }, (_, i) => withCallbacks('request', { url: `/api/cb/${i}` }))
    const promises = Array.from({ length: 10 }, (_, i) => get(`/api/p/${i}`))
    let resolved = 0
    for (const p of promises) p.then(() => resolved++)
    await vi.waitUntil(() => callbacks.every((c) => c.settled()) && resolved === 10, { timeout: 3000, interval: 10 })
    expect(Date.now() - started).toBeLessThan(3000)
    await sleep(150) // nothing arrives late: no second success, no stray fail
    for (const { seen } of callbacks) {
      expect(seen.order).toEqual(['success', 'complete'])
      expect(seen.success[0]).toMatchObject({ statusCode: 200, data: { generation: 2 } })
      expect(seen.complete[0]).toBe(seen.success[0])
    }
    for (const p of promises) await expect(p).resolves.toMatchObject({ statusCode: 200, data: { generation: 2 } })
    expect(server.stats().refreshes).toBe(1)
  })

  it('the task handed to callback callers is uni’s own (abort, progress listeners)', async () => {
    await loggedIn(platform)
    const { task, seen } = withCallbacks('uploadFile', upload())
    expect(typeof task.abort).toBe('function')
    expect(typeof task.onProgressUpdate).toBe('function')
    await vi.waitUntil(() => seen.complete.length === 1)
    expect(seen.success[0]).toMatchObject({ statusCode: 200 })
  })

  it('a late 401 for the old token is replayed with the new one and starts no second refresh', async () => {
    await loggedIn(platform)
    server.control({ expireAllNow: true })
    const slow = get('/api/slow?delay=300')
    await get('/api/fast') // refreshes while the slow one's 401 is on its way back
    expect(server.stats().refreshes).toBe(1)
    await expect(slow).resolves.toMatchObject({ statusCode: 200, data: { generation: 2 } })
    expect(server.stats().refreshes).toBe(1)
    expect(hits('/api/slow')).toEqual([
      [401, 1],
      [200, 2],
    ])
  })

  it('an expiry that persists after the refresh: one refresh, one replay, then REPLAY_LIMIT (replays pass our hooks once)', async () => {
    await loggedIn(platform, { isExpired: (res) => res.statusCode === 401 || (res.data as { path?: string }).path === '/api/always' })
    const { seen, settled } = withCallbacks('request', { url: '/api/always' })
    await vi.waitUntil(settled)
    await sleep(100)
    expect(seen.order).toEqual(['fail', 'complete'])
    expect(seen.fail[0]).toMatchObject({ code: 'REPLAY_LIMIT', errMsg: 'request:fail REPLAY_LIMIT' })
    expect(hits('/api/always')).toEqual([
      [200, 1],
      [200, 2],
    ])
    expect(server.stats().refreshAttempts).toBe(1)
  })

  it('body-code expiry (HTTP 200 with code 99997) refreshes once too', async () => {
    await loggedIn(platform, { expired: { codes: [99997] } })
    server.control({ expiryMode: '99997', expireAllNow: true })
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => get(`/api/b/${i}`)))
    expect(results.map((r) => [r.data.code, r.data.generation])).toEqual(Array(5).fill([0, 2]))
    expect(server.stats().refreshes).toBe(1)
  })

  it('an upload answered with a string body code is parsed, refreshed and re-sent', async () => {
    await loggedIn(platform, { expired: { status: [401], codes: ['0002'] } })
    server.control({ expiryMode: '0002', expireAllNow: true })
    const res = (await uni.uploadFile(upload())) as Res
    expect(typeof res.data).toBe('string')
    expect(JSON.parse(res.data)).toMatchObject({ ok: true, code: 0, generation: 2, file: { size: 13 } })
    expect(hits('/api/upload')).toEqual([
      [200, 1],
      [200, 2],
    ])
  })

  it('a download still answered 401 after the session ended is a failure, not a success', async () => {
    await loggedIn(platform, { exchange: undefined })
    server.control({ revokeUser: 'alice', expireAllNow: true })
    const { seen } = withCallbacks('downloadFile', { url: `${server.url}/api/download/x.bin` })
    await vi.waitUntil(() => seen.complete.length === 1)
    await sleep(50)
    expect(seen.order).toEqual(['fail', 'complete'])
    expect(seen.fail[0]).toMatchObject({ code: 'SESSION_EXPIRED', errMsg: 'downloadFile:fail SESSION_EXPIRED' })
    await expect(uni.downloadFile({ url: `${server.url}/api/download/y.bin` })).rejects.toMatchObject({ code: 'SESSION_EXPIRED' })
  })

  describe('abort', () => {
    /** A refresh that waits for the test to let it go. */
    function gatedRefresh() {
      let open = () => {}
      const gate = new Promise<void>((r) => (open = r))
      return { open, refresh: async (ctx: RefreshContext) => (await gate, refresh(ctx)) }
    }
    const waitingFor = (r: InstalledRelay, path: string) =>
      new Promise<void>((resolve) => r.on('queued', (e) => e.request.url.endsWith(path) && resolve()))

    it('task.abort() on a callback call waiting for the refresh fails it with ABORTED; it is never replayed', async () => {
      const gated = gatedRefresh()
      const r = await loggedIn(platform, { refresh: gated.refresh })
      server.control({ expireAllNow: true })
      const first = get('/api/first')
      await vi.waitUntil(() => r.refreshing)
      const waiting = waitingFor(r, '/api/aborted')
      const { task, seen } = withCallbacks('request', { url: '/api/aborted' })
      await waiting
      task.abort()
      await vi.waitUntil(() => seen.complete.length === 1)
      expect(seen.order).toEqual(['fail', 'complete'])
      expect(seen.fail[0]).toMatchObject({ code: 'ABORTED', errMsg: 'request:fail abort' })
      gated.open()
      await expect(first).resolves.toMatchObject({ statusCode: 200, data: { generation: 2 } })
      // Sent once while the refresh ran, with no token (uni cannot hold a request back), never replayed.
      expect(hits('/api/aborted')).toEqual([[401, null]])
      expect(server.stats().refreshes).toBe(1)
      expect(seen.order).toEqual(['fail', 'complete'])
    })

    it('promise callers get abort() on the promise: waiting for the refresh, it rejects with ABORTED', async () => {
      const gated = gatedRefresh()
      const r = await loggedIn(platform, { refresh: gated.refresh })
      server.control({ expireAllNow: true })
      const first = get('/api/first')
      await vi.waitUntil(() => r.refreshing)
      const waiting = waitingFor(r, '/api/aborted')
      const p = get('/api/aborted')
      expect(typeof p.abort).toBe('function')
      await waiting
      p.abort()
      await expect(p).rejects.toMatchObject({ code: 'ABORTED', errMsg: 'request:fail abort' })
      gated.open()
      await expect(first).resolves.toMatchObject({ statusCode: 200 })
      expect(hits('/api/aborted')).toEqual([[401, null]])
    })

    it('abort() during the replay aborts the replay (it goes through uni, not through the caller’s task)', async () => {
      const r = await loggedIn(platform)
      server.control({ expireAllNow: true })
      const replaying = new Promise<void>((resolve) => r.on('replay', () => resolve()))
      const { task, seen, settled } = withCallbacks('request', { url: '/api/slow?delay=400' })
      await replaying
      task.abort()
      await vi.waitUntil(settled) // without forwarding, the replay would answer 200 after its 400 ms
      expect(seen.order).toEqual(['fail', 'complete'])
      expect(seen.fail[0]).toMatchObject({ code: 'ABORTED', errMsg: 'request:fail abort' })
    })

    it('abort() on a call in flight: callback callers and promise callers get ABORTED once', async () => {
      await loggedIn(platform)
      const { task, seen } = withCallbacks('request', { url: '/api/slow?delay=2000' })
      const p = get('/api/slow?delay=300')
      await sleep(50)
      task.abort()
      p.abort()
      await vi.waitUntil(() => seen.complete.length === 1)
      expect(seen.order).toEqual(['fail', 'complete'])
      expect(seen.fail[0]).toMatchObject({ code: 'ABORTED' })
      // uni gives promise callers no task: the answer is discarded when it arrives.
      await expect(p).rejects.toMatchObject({ code: 'ABORTED' })
    })
  })

  it('final answers go back the platform’s way: a 403 on success (weixin) or on fail with statusCode (alipay)', async () => {
    await loggedIn(platform)
    const { seen } = withCallbacks('request', { url: '/api/forbidden' })
    await vi.waitUntil(() => seen.complete.length === 1)
    expect(seen.order).toEqual([alipay ? 'fail' : 'success', 'complete'])
    expect(seen.complete[0]).toMatchObject({ statusCode: 403 })
    expect(server.stats().refreshAttempts).toBe(0)
    // The same when the 403 is the answer to a replay (first answer 401, refresh, then 403).
    server.control({ expireAllNow: true })
    const replayed = withCallbacks('request', { url: '/api/forbidden' })
    const p = get('/api/forbidden').then((value) => ['resolved', value], (error) => ['rejected', error])
    await vi.waitUntil(() => replayed.settled())
    expect(replayed.seen.order).toEqual([alipay ? 'fail' : 'success', 'complete'])
    expect(replayed.seen.complete[0]).toMatchObject({ statusCode: 403, data: { error: 'insufficient_scope' } })
    expect(await p).toMatchObject(alipay ? ['rejected', { statusCode: 403, errMsg: 'request:fail http status error' }] : ['resolved', { statusCode: 403 }])
    expect(hits('/api/forbidden').map(([status]) => status)).toEqual([403, 401, 401, 403, 403])
    expect(server.stats().refreshes).toBe(1)
  })

  it(`a 401 arriving on ${alipay ? 'fail (Alipay: http status error)' : 'success'} ends on the caller’s success after the replay`, async () => {
    await loggedIn(platform)
    server.control({ expireAllNow: true })
    const firsts: string[] = []
    const spy = { success: (r: Res) => void firsts.push(`success ${r.statusCode}`), fail: (r: Res) => void firsts.push(`fail ${r.statusCode}`) }
    uni.addInterceptor('request', spy) // added after ours: proves where the 401 arrived, and that a later hook is harmless
    try {
      const { seen } = withCallbacks('request', { url: '/api/fail-path' })
      await vi.waitUntil(() => seen.complete.length === 1)
      expect(seen.order).toEqual(['success', 'complete'])
      expect(seen.success[0]).toMatchObject({ statusCode: 200, data: { generation: 2 } })
      // The 401 is taken over before later hooks see it; the refresh and the replay pass through them.
      expect(firsts).toEqual(['success 200', 'success 200'])
      // Underneath, the platform itself: wx answers a 401 on success, my on fail with error 19.
      const raw = await new Promise((resolve) => (sim.api.request as any)({ url: `${server.url}/api/raw`, success: resolve, fail: resolve }))
      expect(raw).toMatchObject(alipay ? { error: 19, status: 401 } : { statusCode: 401 })
    } finally {
      uni.removeInterceptor('request', spy)
    }
  })

  it('the session ends once: every caller fails with SESSION_EXPIRED and one navigation to the login page', async () => {
    const onSessionExpired = vi.fn()
    await loggedIn(platform, { onSessionExpired, exchange: undefined }, ['pages/home/index', 'pages/detail/index'])
    server.control({ revokeUser: 'alice', expireAllNow: true })
    const callbacks = Array.from({ length: 5 }, (_, i) => withCallbacks('request', { url: `/api/cb/${i}` }))
    const results = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => get(`/api/x/${i}`)))
    await vi.waitUntil(() => callbacks.every((c) => c.settled()), { timeout: 3000 })
    expect(results.every((r) => r.status === 'rejected' && r.reason.code === 'SESSION_EXPIRED')).toBe(true)
    for (const { seen } of callbacks) {
      expect(seen.order).toEqual(['fail', 'complete'])
      expect(seen.fail[0]).toMatchObject({ code: 'SESSION_EXPIRED', errMsg: 'request:fail SESSION_EXPIRED' })
    }
    expect(onSessionExpired).toHaveBeenCalledTimes(1)
    expect(sim.navigations).toEqual([{ api: 'navigateTo', url: '/pages/login/index' }])
    expect(sim.storage.has('tokenrelay')).toBe(false)
    expect(server.stats().refreshAttempts).toBe(1)
    await relay!.setCredentials({ accessToken: 'x' })
    relay!.returnAfterLogin()
    expect(sim.navigations[1]).toEqual({ api: 'redirectTo', url: '/pages/detail/index' })
  })

  it('a full page stack uses redirectTo; a tabBar login page (from the app config) uses switchTab', async () => {
    await loggedIn(platform, { exchange: undefined }, Array.from({ length: 10 }, (_, i) => `pages/p${i}/index`))
    server.control({ revokeUser: 'alice', expireAllNow: true })
    await get('/api/x').catch(() => {})
    expect(sim.navigations).toEqual([{ api: 'redirectTo', url: '/pages/login/index' }])
    relay!.uninstall()
    // H5 exposes pages.json as __uniConfig, WeChat as __wxConfig.
    vi.stubGlobal(alipay ? '__uniConfig' : '__wxConfig', { tabBar: { list: [{ pagePath: 'pages/login/index' }] } })
    await loggedIn(platform, { exchange: undefined })
    server.control({ revokeUser: 'alice', expireAllNow: true })
    await get('/api/y').catch(() => {})
    expect(sim.navigations).toEqual([{ api: 'switchTab', url: '/pages/login/index' }])
  })

  it('a failing navigation is reported through the logger, not left as an unhandled rejection', async () => {
    const logger = { log: vi.fn(), warn: vi.fn() }
    await loggedIn(platform, { exchange: undefined, logger })
    const platformApi = (globalThis as any)[alipay ? 'my' : 'wx'] // what uni calls into
    const failure = alipay ? { error: 11, errorMessage: 'page not found' } : { errMsg: 'navigateTo:fail page not found' }
    platformApi.navigateTo = (o: { fail(e: object): void }) => o.fail(failure)
    server.control({ revokeUser: 'alice', expireAllNow: true })
    await expect(get('/api/x')).rejects.toMatchObject({ code: 'SESSION_EXPIRED' })
    await vi.waitUntil(() => logger.warn.mock.calls.length > 0)
    expect(logger.warn.mock.calls[0][0]).toContain('navigation')
    expect(logger.warn.mock.calls[0][1]).toMatchObject({ errMsg: 'navigateTo:fail page not found' })
  })

  it(`silent re-login through uni.login (${alipay ? 'my.getAuthCode → authCode' : 'wx.login → code'}) rescues a revoked refresh token`, async () => {
    await loggedIn(platform)
    server.control({ revokeUser: 'alice', expireAllNow: true })
    await expect(get('/api/rescued')).resolves.toMatchObject({ statusCode: 200, data: { generation: 1 } })
    expect(server.stats()).toMatchObject({ logins: 2, refreshes: 0, refreshFailures: 1 })
    expect(sim.navigations).toEqual([])
  })

  it('logs in silently on the first request when there are no credentials', async () => {
    await setup(platform)
    await expect(get('/api/first')).resolves.toMatchObject({ statusCode: 200, data: { generation: 1 } })
    expect(hits('/api/first')).toEqual([
      [401, null],
      [200, 1],
    ])
    expect(JSON.parse(sim.storage.get('tokenrelay') as string)).toMatchObject({ accessToken: expect.any(String) })
  })

  it('where uni.login is "not supported" (uni-h5), a shared `exchange` ends the session on the login page, no retries', async () => {
    const onSessionExpired = vi.fn()
    await setup(platform, { onSessionExpired })
    // What uni-h5's uni.login answers (its createUnsupportedAsyncApi), as the platform's own failure here.
    const platformApi = (globalThis as any)[alipay ? 'my' : 'wx']
    const unsupported = alipay ? { error: 2, errorMessage: "method 'uni.login' not supported" } : { errMsg: "login:fail method 'uni.login' not supported" }
    platformApi[alipay ? 'getAuthCode' : 'login'] = (o: { fail(e: object): void }) => setTimeout(() => o.fail(unsupported))
    const started = Date.now()
    await expect(get('/api/first')).rejects.toMatchObject({ code: 'SESSION_EXPIRED', errMsg: 'request:fail SESSION_EXPIRED' })
    expect(Date.now() - started).toBeLessThan(250) // no backoff: not a transient failure
    expect(onSessionExpired).toHaveBeenCalledTimes(1)
    expect(onSessionExpired.mock.calls[0][0].cause).toMatchObject({ errMsg: expect.stringContaining('not supported') })
    expect(sim.navigations).toEqual([{ api: 'navigateTo', url: '/pages/login/index' }])
    expect(server.stats().logins).toBe(0)
  })

  it('another uni.login failure stays transient: retried, then REFRESH_FAILED, no login page', async () => {
    await setup(platform, { retry: { attempts: 1, backoffMs: 10 } })
    const platformApi = (globalThis as any)[alipay ? 'my' : 'wx']
    let calls = 0
    platformApi[alipay ? 'getAuthCode' : 'login'] = (o: { fail(e: object): void }) => {
      calls++
      setTimeout(() => o.fail(alipay ? { error: 12, errorMessage: 'network error' } : { errMsg: 'login:fail network error' }))
    }
    await expect(get('/api/first')).rejects.toMatchObject({ code: 'REFRESH_FAILED' })
    expect(calls).toBe(2)
    expect(sim.navigations).toEqual([])
  })

  it('auth: false sends no token and a 401 there is returned as is', async () => {
    await loggedIn(platform)
    const { seen } = withCallbacks('request', { url: '/api/public', auth: false })
    await vi.waitUntil(() => seen.complete.length === 1)
    expect(seen.order).toEqual([alipay ? 'fail' : 'success', 'complete'])
    expect(seen.complete[0]).toMatchObject({ statusCode: 401 })
    expect(hits('/api/public')).toEqual([[401, null]])
    expect(server.stats().refreshAttempts).toBe(0)
  })

  it('no token goes to another host, and its 401 is not refreshed', async () => {
    await loggedIn(platform)
    const other = await startServer({ port: 0 })
    try {
      const { seen } = withCallbacks('request', { url: `${other.url}/api/elsewhere` })
      await vi.waitUntil(() => seen.complete.length === 1)
      expect(seen.complete[0]).toMatchObject({ statusCode: 401 })
      expect(other.stats().hits['/api/elsewhere'].map((h) => h.generation)).toEqual([null])
      expect(server.stats().refreshAttempts).toBe(0)
    } finally {
      await other.close()
    }
  })

  it('uninstall removes the interceptors: requests get no token and a 401 is left alone', async () => {
    await loggedIn(platform)
    await expect(get('/api/before')).resolves.toMatchObject({ statusCode: 200 })
    relay!.uninstall()
    relay = undefined
    const { seen } = withCallbacks('request', { url: `${server.url}/api/after` })
    await vi.waitUntil(() => seen.complete.length === 1)
    expect(seen.complete[0]).toMatchObject({ statusCode: 401 })
    expect(hits('/api/before')).toEqual([[200, 1]])
    expect(hits('/api/after')).toEqual([[401, null]])
    expect(server.stats().refreshAttempts).toBe(0)
    // Installing again works (and a second install() replaces the first instead of stacking).
    await loggedIn(platform)
    install({ baseURL: server.url, refresh }).uninstall()
    await get(`${server.url}/api/again`).catch(() => {})
    expect(hits('/api/again')).toEqual([[401, null]])
  })
  it('install() twice: the second relay replaces the first, one warning names both call sites, uninstall() is idempotent', async () => {
    sim = await loadUni(platform)
    const warn = vi.fn()
    const logger = { log() {}, warn }
    const first = install({ baseURL: server.url, refresh, logger })
    await first.setCredentials(await loginDirect(server.url, `code-alice-first-${++logins}`))
    const second = (relay = install({ baseURL: server.url, refresh, logger }))
    await second.setCredentials(await loginDirect(server.url, `code-bob-second-${++logins}`))
    await expect(get('/api/who')).resolves.toMatchObject({ statusCode: 200, data: { user: 'bob' } })
    expect(server.stats().hits['/api/who'].map((h) => h.user)).toEqual(['bob'])
    expect(warn).toHaveBeenCalledTimes(1)
    expect(warn.mock.calls[0][0]).toMatch(/^\[tokenrelay\] tokenrelay\/uniapp installed twice/)
    expect(warn.mock.calls[0][0].match(/uniapp\.test\.ts:\d+:\d+/g)).toHaveLength(2)
    first.uninstall()
    await expect(get('/api/still')).resolves.toMatchObject({ statusCode: 200, data: { user: 'bob' } })
    second.uninstall()
    second.uninstall()
    await get(`${server.url}/api/after`).catch(() => {})
    expect(hits('/api/after')).toEqual([[401, null]])
    expect(warn).toHaveBeenCalledTimes(1)
  })

  it('a throwing success or fail callback: complete still runs, last; the error is reported once; no unhandled rejection', async () => {
    const unhandled = trackUnhandled()
    try {
      const warn = vi.fn()
      await loggedIn(platform, { exchange: undefined, logger: { log() {}, warn } })
      const events: string[] = []
      const thrown = [new Error('success threw'), new Error('replayed success threw'), new Error('fail threw')]
      const record = (name: string, error?: Error) => () => {
        events.push(name)
        if (error) throw error
      }
      // Answered at once: uni calls the callbacks.
      uni.request({ url: '/api/ok', success: record('success', thrown[0]), fail: record('fail'), complete: record('complete') })
      await vi.waitUntil(() => events.length >= 2)
      // Expired, refreshed and replayed: tokenrelay calls them.
      server.control({ expireAllNow: true })
      uni.request({ url: '/api/replayed', success: record('success', thrown[1]), fail: record('fail'), complete: record('complete') })
      await vi.waitUntil(() => events.length >= 4)
      server.control({ revokeUser: 'alice', expireAllNow: true })
      uni.request({ url: '/api/ended', success: record('success'), fail: record('fail', thrown[2]), complete: record('complete') })
      await vi.waitUntil(() => events.length >= 6)
      await sleep(50)
      await unhandled.settle()
      expect(events).toEqual(['success', 'complete', 'success', 'complete', 'fail', 'complete'])
      for (const error of thrown) expect(warn.mock.calls.filter((c) => c.includes(error))).toHaveLength(1)
      expect(unhandled.reasons).toEqual([])
    } finally {
      unhandled.stop()
    }
  })

  it('a uni.login that yields no code ends the session: SESSION_EXPIRED, exchange never called, one navigation, no retry', async () => {
    const exchangeCode = vi.fn(exchange)
    await setup(platform, { exchange: exchangeCode, retry: { attempts: 2, backoffMs: 10 } })
    let logins = 0
    const platformApi = (globalThis as any)[alipay ? 'my' : 'wx']
    platformApi[alipay ? 'getAuthCode' : 'login'] = (o: { success(r: object): void }) => void (logins++, setTimeout(() => o.success({})))
    await expect(get('/api/first')).rejects.toMatchObject({ code: 'SESSION_EXPIRED', errMsg: 'request:fail SESSION_EXPIRED' })
    expect(exchangeCode).not.toHaveBeenCalled()
    expect(logins).toBe(1)
    expect(sim.navigations).toEqual([{ api: 'navigateTo', url: '/pages/login/index' }])
  })
})

describe('tokenrelay/uniapp on mp-weixin: storage', () => {
  it('keeps credentials in uni storage and survives a throwing setStorageSync', async () => {
    await loggedIn('mp-weixin')
    expect(JSON.parse(sim.storage.get('tokenrelay') as string)).toMatchObject({ accessToken: expect.any(String) })
    sim.state.storageFull = true
    const errors: unknown[] = []
    relay!.on('error', (e) => errors.push(e.error))
    server.control({ expireAllNow: true })
    await expect(get('/api/after-full')).resolves.toMatchObject({ data: { generation: 2 } })
    expect(String(errors[0])).toContain('exceed storage')
  })
})

// What the adapter is built on, measured on the real runtime (pinned so an upgrade that changes it fails here).
describe.each(['mp-weixin', 'mp-alipay'] as UniPlatform[])('uni.addInterceptor facts on %s', (platform) => {
  it('invoke and the result hooks get the same args object; callback callers get the task, promise callers a promise', async () => {
    await loadUni(platform)
    const seen: unknown[] = []
    let invoked: object | undefined
    const hooks = {
      invoke: (a: object) => void (invoked = a),
      complete: (_r: unknown, a: object) => void seen.push(a === invoked),
      returnValue: (v: any) => void seen.push(typeof v.then === 'function' ? 'promise' : typeof v.abort === 'function' ? 'task' : '?'),
    }
    uni.addInterceptor('request', hooks)
    await new Promise((complete) => uni.request({ url: `${server.url}/api/x`, complete }))
    await uni.request({ url: `${server.url}/api/x` }).catch(() => {})
    uni.removeInterceptor('request', hooks)
    expect(seen).toEqual(['task', true, 'promise', true])
  })

  it('`return false` from a result hook silences uni for that callback and skips later hooks', async () => {
    await loadUni(platform)
    const later = vi.fn()
    const first = { complete: () => false as const }
    uni.addInterceptor('request', first)
    uni.addInterceptor('request', { complete: later })
    const complete = vi.fn()
    uni.request({ url: `${server.url}/api/x`, complete })
    await vi.waitUntil(() => server.stats().requests.length === 1)
    await sleep(100)
    expect(complete).not.toHaveBeenCalled()
    expect(later).not.toHaveBeenCalled()
    uni.removeInterceptor('request')
  })

  it('a promise returned from a success hook: complete fires first, and a later hook hands the caller a function', async () => {
    await loadUni(platform)
    const order: string[] = []
    const promising = { success: () => Promise.resolve({ replaced: true }) }
    uni.addInterceptor('request', promising)
    await new Promise<void>((done) =>
      uni.request({
        url: `${server.url}/auth/login`,
        method: 'POST',
        data: { code: 'code-a-1' },
        success: (r: any) => (order.push(`success ${JSON.stringify(r)}`), done()),
        complete: () => void order.push('complete'),
      }),
    )
    expect(order).toEqual(['complete', 'success {"replaced":true}'])
    uni.addInterceptor('request', { success: () => {} })
    const got = await new Promise((success) => uni.request({ url: `${server.url}/auth/login`, method: 'POST', data: { code: 'code-a-2' }, success }))
    expect(typeof got).toBe('function')
    uni.removeInterceptor('request')
  })
})
