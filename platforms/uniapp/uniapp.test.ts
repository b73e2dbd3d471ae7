// tokenrelay/uniapp against uni-app's REAL API runtime (@dcloudio/uni-mp-weixin, uni-mp-alipay and
// uni-mp-toutiao, dist/uni.api.esm.js): `uni.request` & co. run through uni's own interceptor, promisify and
// protocol code, on simulated `wx` / `my` / `tt` that do real HTTP to the reference server. Douyin's `tt` has
// wx's conventions plus `errNo` beside `errMsg` on failures, tt.login with `force`, and a `code` only for a
// user logged in to the host app. The scenarios every callback-style adapter shares are in
// test/helpers/adapter-suite.ts; uni's own are below, then Douyin's own.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { startServer } from '../../playground-server/server.js'
import type { RunningServer } from '../../playground-server/server.js'
import type { Res } from '../../test/helpers/adapter-suite.js'
import { sharedAdapterTests, useAdapter } from '../../test/helpers/adapter-suite.js'
import { douyinLoginTests } from '../../test/helpers/douyin.js'
import { exchange, refresh } from '../../test/helpers/reference.js'
import { loadUni } from '../../test/helpers/uni-runtime.js'
import type { UniPlatform } from '../../test/helpers/uni-runtime.js'
import { install } from './index.js'

// A uni build aliases 'vue' to its mini program runtime; the API runtime imports injectHook from it.
// @ts-expect-error @dcloudio/uni-mp-vue ships no types
vi.mock('vue', () => import('@dcloudio/uni-mp-vue'))

/** The global `uni`, as app code sees it. */
const uni = new Proxy({} as Record<string, (...a: any[]) => any>, { get: (_, name: string) => (globalThis as any).uni[name] })

describe.each(['mp-weixin', 'mp-alipay', 'mp-toutiao'] as UniPlatform[])('tokenrelay/uniapp on %s', (platform) => {
  const alipay = platform === 'mp-alipay'
  const toutiao = platform === 'mp-toutiao'
  const t = useAdapter({
    name: 'uniapp',
    family: alipay ? 'alipay' : 'weixin', // tt answers every HTTP status on success, its failures carry errMsg (and errNo)
    app: 'uni',
    install,
    load: ({ pages }) => loadUni(platform, { pages }),
    exchange, // uni.login hands over Alipay's authCode as `code`
    patches: false,
    upload: { name: 'file', fileType: 'image' }, // fileType is Alipay's; wx and tt ignore it
    // pages.json's tabBar, as the runtime exposes it: __uniConfig on H5, __wxConfig on WeChat. A uni mp-alipay or
    // mp-toutiao build defines neither (apps there pass `tabBar`, as the README says): on the Alipay runtime the H5
    // global is stubbed only to cover the adapter's __uniConfig branch; on Douyin the option is used.
    tabBarLogin: () =>
      toutiao
        ? { tabBar: ['pages/login/index'] }
        : (vi.stubGlobal(alipay ? '__uniConfig' : '__wxConfig', { tabBar: { list: [{ pagePath: 'pages/login/index' }] } }), {}),
  })

  sharedAdapterTests(t)

  it(`a 401 arriving on ${alipay ? 'fail (Alipay: http status error)' : 'success'} ends on the caller’s success after the replay`, async () => {
    await t.loggedIn()
    t.server.control({ expireAllNow: true })
    const firsts: string[] = []
    const spy = {
      success: (r: Res) => void firsts.push(`success ${r.statusCode}`),
      fail: (r: Res) => void firsts.push(`fail ${r.statusCode}`),
    }
    uni.addInterceptor('request', spy) // added after ours: proves where the 401 arrived, and that a later hook is harmless
    try {
      const { seen } = t.withCallbacks('request', { url: '/api/fail-path' })
      await vi.waitUntil(() => seen.complete.length === 1)
      expect(seen.order).toEqual(['success', 'complete'])
      expect(seen.success[0]).toMatchObject({ statusCode: 200, data: { generation: 2 } })
      // The 401 is taken over before later hooks see it; the refresh and the replay pass through them.
      expect(firsts).toEqual(['success 200', 'success 200'])
      // Underneath, the platform itself: wx and tt answer a 401 on success, my on fail with error 19.
      const raw = await new Promise((resolve) => t.sim.api.request({ url: `${t.server.url}/api/raw`, success: resolve, fail: resolve }))
      expect(raw).toMatchObject(alipay ? { error: 19, status: 401 } : { statusCode: 401 })
    } finally {
      uni.removeInterceptor('request', spy)
    }
  })

  it('where uni.login is "not supported" (uni-h5), a shared `exchange` ends the session on the login page, no retries', async () => {
    const onSessionExpired = vi.fn()
    await t.setup({ onSessionExpired })
    // What uni-h5's uni.login answers (its createUnsupportedAsyncApi), as the platform's own failure here.
    t.sim.api[t.loginApi] = (o: { fail(e: object): void }) =>
      setTimeout(() => o.fail(t.failure('login', "method 'uni.login' not supported", 2)))
    const started = Date.now()
    await expect(t.get('/api/first')).rejects.toMatchObject({ code: 'SESSION_EXPIRED', errMsg: 'request:fail SESSION_EXPIRED' })
    expect(Date.now() - started).toBeLessThan(250) // no backoff: not a transient failure
    expect(onSessionExpired).toHaveBeenCalledTimes(1)
    expect(onSessionExpired.mock.calls[0][0].cause).toMatchObject({ errMsg: expect.stringContaining('not supported') })
    expect(t.sim.navigations).toEqual([{ api: 'navigateTo', url: '/pages/login/index' }])
    expect(t.server.stats().logins).toBe(0)
  })

  // Issue 15 item 6, counted at the reference server: a request that reaches it without a token is a wasted round trip.
  const tokenless = () => t.server.stats().requests.filter((h) => h.route.startsWith('/api/') && h.generation === null).length

  it('cold start: 6 requests (callbacks and promises) wait for the one silent login and go out once, with its token', async () => {
    await t.setup()
    const seen = Array.from({ length: 3 }, (_, i) => t.withCallbacks('request', { url: `/api/cold/cb${i}` }))
    const results = await Promise.all(Array.from({ length: 3 }, (_, i) => t.get(`/api/cold/p${i}`)))
    await vi.waitUntil(() => seen.every((s) => s.settled()))
    expect(tokenless()).toBe(0)
    expect(t.server.stats().logins).toBe(1)
    for (const r of results) expect(r).toMatchObject({ statusCode: 200, data: { generation: 1 } })
    for (const { seen: s } of seen) expect(s.order).toEqual(['success', 'complete'])
    // Held calls hand callback callers tokenrelay's task: abort() and progress listeners, as uni's task has.
    for (const { task } of seen) expect([typeof task.abort, typeof task.onProgressUpdate]).toEqual(['function', 'function'])
    for (const route of Object.keys(t.server.stats().hits).filter((r) => r.startsWith('/api/'))) expect(t.hits(route)).toEqual([[200, 1]])
  })

  it("an app's invoke hook added after tokenrelay's still runs for a held call, once, on the call that goes out", async () => {
    await t.setup()
    const seen: string[] = []
    const app = {
      invoke: (args: { url: string; header?: Record<string, string> }) =>
        void seen.push(`${args.url} ${args.header?.Authorization ? 'token' : 'none'}`),
    }
    uni.addInterceptor('request', app)
    try {
      await expect(t.get('/api/later-hook')).resolves.toMatchObject({ statusCode: 200, data: { generation: 1 } })
      expect(seen.filter((l) => l.includes('/api/later-hook'))).toEqual([`${t.server.url}/api/later-hook token`])
      expect(t.hits('/api/later-hook')).toEqual([[200, 1]])
    } finally {
      uni.removeInterceptor('request', app)
    }
  })

  it('requests started while a refresh runs wait for it: none goes out without a token, none with the old one', async () => {
    let open = () => {}
    const gate = new Promise<void>((resolve) => (open = resolve))
    const r = await t.loggedIn({ refresh: async (ctx) => (await gate, refresh(ctx)) })
    t.server.control({ expireAllNow: true })
    const first = t.get('/api/first')
    await vi.waitUntil(() => r.refreshing)
    const during = Array.from({ length: 6 }, (_, i) => t.get(`/api/during/${i}`))
    await new Promise((resolve) => setTimeout(resolve, 100))
    open()
    await first
    await Promise.all(during)
    expect(tokenless()).toBe(0)
    for (let i = 0; i < 6; i++) expect(t.hits(`/api/during/${i}`)).toEqual([[200, 2]])
    for (const res of await Promise.all(during)) expect(res).toMatchObject({ statusCode: 200, data: { generation: 2 } })
    expect(t.server.stats().refreshes).toBe(1)
  })

  if (toutiao)
    describe('Douyin only (mp-toutiao)', () => {
      douyinLoginTests(t)

      it('a network failure reaches the caller through uni as tt gave it (errMsg and errNo), with no refresh', async () => {
        await t.loggedIn()
        const refused = await t.settled(t.get('http://127.0.0.1:1/nothing'))
        expect(refused).toMatchObject({ ok: false, value: { errMsg: expect.stringMatching(/^request:fail /), errNo: expect.any(Number) } })
        const { seen } = t.withCallbacks('downloadFile', { url: 'http://127.0.0.1:1/nothing.bin' })
        await vi.waitUntil(() => seen.complete.length === 1)
        expect(seen.order).toEqual(['fail', 'complete'])
        expect(seen.fail[0]).toMatchObject({ errMsg: expect.stringMatching(/^downloadFile:fail /), errNo: expect.any(Number) })
        expect(t.server.stats()).toMatchObject({ refreshAttempts: 0, logins: 1 })
      })

      // The way back with __id__ in play is the shared suite's "the way back stacks no second copy", run here too.
      it("uni-mp-toutiao appends its EventChannel id (`__id__`) to the login page's navigateTo url", async () => {
        await t.loggedIn({ exchange: undefined })
        t.server.control({ revokeUser: 'alice', expireAllNow: true })
        await expect(t.get('/api/x')).rejects.toMatchObject({ code: 'SESSION_EXPIRED' })
        expect(t.sim.rawUrls).toEqual([expect.stringMatching(/^\/pages\/login\/index\?__id__=\d+$/)])
        expect(t.sim.navigations).toEqual([{ api: 'navigateTo', url: '/pages/login/index' }])
      })
    })
})

// What the adapter is built on, measured on the real runtime (pinned so an upgrade that changes it fails here).
describe.each(['mp-weixin', 'mp-alipay', 'mp-toutiao'] as UniPlatform[])('uni.addInterceptor facts on %s', (platform) => {
  let server: RunningServer
  beforeEach(async () => {
    server = await startServer({ port: 0 })
  })
  afterEach(async () => {
    vi.unstubAllGlobals()
    await server.close()
  })
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

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
    const got = await new Promise((success) =>
      uni.request({ url: `${server.url}/auth/login`, method: 'POST', data: { code: 'code-a-2' }, success }),
    )
    expect(typeof got).toBe('function')
    uni.removeInterceptor('request')
  })

  if (platform === 'mp-toutiao')
    it('uni.login passes `force` through to tt.login (its protocol drops only scopes and timeout)', async () => {
      const sim = await loadUni('mp-toutiao')
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
      try {
        await uni.login({ force: false, scopes: 'auth_base', timeout: 1000 })
        await uni.login({})
        expect(warn.mock.calls.map((c) => c[0])).toEqual(['字节跳动小程序 login 暂不支持 scopes', '字节跳动小程序 login 暂不支持 timeout'])
      } finally {
        warn.mockRestore()
      }
      expect(sim.state.logins).toEqual([{ force: false }, { force: undefined }])
    })
})
