// The scenarios every callback-style adapter must pass, run by platforms/wx/wx.test.ts (tokenrelay/wx on
// `wx`), platforms/my/my.test.ts (tokenrelay/my on `my`), platforms/tt/tt.test.ts (tokenrelay/tt on `tt`) and platforms/uniapp/uniapp.test.ts
// (tokenrelay/uniapp on uni's real runtime over `wx` and over `my`). Each file describes its platform as an
// AdapterTarget; what differs between them is in that object, what is the same is written once here.
// Assertions count on the reference server (test/helpers/reference.ts).
import { readFileSync } from 'node:fs'
import { afterEach, beforeEach, expect, it, vi } from 'vitest'
import { downloadContent, startServer } from '../../playground-server/server.js'
import type { RunningServer } from '../../playground-server/server.js'
import type { InstalledRelay, PlatformOptions, ReturnAfterLogin } from '../../platforms/shared/types.js'
import { authRequests } from '../../src/auth.js'
import type { RefreshContext } from '../../src/index.js'
import type { SimLife, SimOptions } from './mini-platform.js'
import { tempFile } from './mini-platform.js'
import { loginDirect, refresh, unauthorized as unauthorizedAt, wallClock } from './reference.js'
import { trackUnhandled } from './unhandled.js'

export type Res = { statusCode: number; data: any; header?: Record<string, string>; tempFilePath?: string; errMsg?: string }
type Obj = Record<string, any>
type NetworkApi = 'request' | 'uploadFile' | 'downloadFile'

/** A simulated platform (mini-platform.ts), seen the same way whichever global app code calls. */
export interface Sim {
  /** The simulated `wx` or `my`: what the adapter, or uni's runtime, calls into. */
  api: Obj
  navigations: { api: string; url: string }[]
  storage: Map<string, unknown>
  stack: { route: string; options: Obj }[]
  state: { requests: number }
  /** App show / hide and the network status, as the test drives them. */
  life: SimLife
}

/** One adapter on one platform: everything the shared scenarios need to know about it. */
export interface AdapterTarget<S extends Sim = Sim> {
  /** The adapter, as its warnings name it: `tokenrelay/<name>`. */
  name: 'wx' | 'my' | 'tt' | 'uniapp'
  /**
   * The platform underneath. `weixin`: every HTTP answer on `success`, failures as `errMsg`, `wx.login`
   * (Douyin's `tt` too: its failures add `errNo`, its login is `tt.login`).
   * `alipay`: a non-2xx answer on `fail` (`error: 19`), failures as `error`/`errorMessage`, `my.getAuthCode`.
   */
  family: 'weixin' | 'alipay'
  /** The global app code calls. uni turns Alipay's failures into `errMsg` and keeps non-2xx on `fail`. */
  app: 'wx' | 'my' | 'tt' | 'uni'
  /** The adapter's own install(), called from this file: the double-install warning names lines here. */
  install: (options?: PlatformOptions) => InstalledRelay
  /** Stubs the globals for a fresh simulated platform. Undone by `vi.unstubAllGlobals()`. */
  load: (options: SimOptions) => S | Promise<S>
  /** The silent login the reference server takes from this platform's login code. */
  exchange: NonNullable<PlatformOptions['exchange']>
  /**
   * true (wx, my): install() replaces request/uploadFile/downloadFile on the global; what they return is a
   * task that is also a promise.
   * false (uni): interceptors on uni's own functions, and uni's own tasks (a call held back for a login or a
   * refresh gets tokenrelay's task, as on wx). On both, a request waits for a refresh or a first login before it
   * goes out.
   */
  patches: boolean
  /** What uploadFile needs besides url and filePath (Alipay: `fileType`, and its field name is `fileName`). */
  upload: Obj
  /** Makes `pages/login/index` a tabBar page the way an app on this platform says so: the options to install with. */
  tabBarLogin: () => PlatformOptions
}

const raise = (error: Error) => {
  throw error
}

/** Stops a refresh until the test lets it go. */
function gatedRefresh() {
  let open = () => {}
  const gate = new Promise<void>((r) => (open = r))
  return { open, refresh: async (ctx: RefreshContext) => (await gate, refresh(ctx)) }
}

const waitingFor = (r: InstalledRelay, path: string) =>
  new Promise<void>((resolve) => r.on('queued', (e) => e.request.url.endsWith(path) && resolve()))

/**
 * Counts the platform's network calls in flight (from the call to its `complete`), so `settle()` can tell
 * when every answer has arrived. Wraps before install(): the adapter keeps what it finds.
 */
function counting(api: Obj) {
  const count = { calls: 0, inflight: 0 }
  for (const name of ['request', 'uploadFile', 'downloadFile']) {
    const send = api[name]
    api[name] = (o: Obj) => {
      let done = false
      const finish = () => void (done || ((done = true), count.inflight--))
      count.calls++
      count.inflight++
      try {
        return send({ ...o, complete: (r: unknown) => (finish(), o.complete?.(r)) })
      } catch (error) {
        finish()
        throw error
      }
    }
  }
  return count
}

/** Registers the hooks; the returned object's getters are valid inside tests. */
export function useAdapter<S extends Sim>(target: AdapterTarget<S>) {
  let server: RunningServer
  let sim: S
  let relay: InstalledRelay | undefined
  let count = { calls: 0, inflight: 0 }
  let codes = 0

  beforeEach(async () => {
    server = await startServer({ port: 0 })
  })
  afterEach(async () => {
    relay?.uninstall()
    relay = undefined
    vi.unstubAllGlobals()
    await server.close()
  })

  const weixin = target.family === 'weixin'
  /** The global app code calls, as it is now (install() patches it, load() replaces it). */
  const app = new Proxy({} as Record<string, (...a: any[]) => any>, { get: (_, name: string) => (globalThis as any)[target.app][name] })

  const t = {
    target,
    app,
    get server() {
      return server
    },
    get sim() {
      return sim
    },
    get relay() {
      return relay!
    },
    set relay(r: InstalledRelay) {
      relay = r
    },
    /** Promise style: no callbacks. The promise has abort() (uni's too, from the adapter). */
    get: (path: string, extra: object = {}) => app.request({ url: path, ...extra }) as Promise<Res> & { abort(): void },
    /** Callback style: returns the task; every callback call is recorded, in order. */
    withCallbacks(api: NetworkApi, options: object) {
      const seen = { success: [] as any[], fail: [] as any[], complete: [] as any[], order: [] as string[] }
      const record = (name: 'success' | 'fail' | 'complete') => (r: any) => {
        seen[name].push(r)
        seen.order.push(name)
      }
      const task = app[api]({ ...options, success: record('success'), fail: record('fail'), complete: record('complete') })
      return { task, seen, settled: () => seen.complete.length > 0 }
    },
    /** What `complete` gets for a request, callback style: works on the platform's own functions too (after uninstall). */
    answer: (url: string) => new Promise<any>((complete) => app.request({ url, complete })),
    /** uploadFile options for this platform. */
    upload: (extra: object = {}) => ({ url: `${server.url}/api/upload`, filePath: tempFile('the file body'), ...target.upload, ...extra }),
    /** [status, generation] of each hit on `route`, oldest first. */
    hits: (route: string) => (server.stats().hits[route] || []).map((h) => [h.status, h.generation]),
    /** Resolves with where a promise ended, so both platforms' ways can be asserted. */
    settled: (p: Promise<unknown>): Promise<{ ok: boolean; value: any }> =>
      p.then(
        (value) => ({ ok: true, value }),
        (value) => ({ ok: false, value }),
      ),
    /**
     * Waits until no platform call is in flight and none starts for 50 ms: a late duplicate callback comes
     * from a platform answer (counted) or a timer of the relay (the quiet time), and has had its turn by then.
     */
    async settle() {
      for (;;) {
        await vi.waitUntil(() => count.inflight === 0, { timeout: 5000, interval: 5 })
        const calls = count.calls
        await new Promise((r) => setTimeout(r, 50))
        if (count.inflight === 0 && count.calls === calls) return
      }
    },
    /** A fresh simulated platform with this page stack (no relay). */
    async load(pages?: string[]) {
      sim = await target.load({ pages })
      count = counting(sim.api)
      return sim
    },
    /** The adapter installed on the loaded platform against the reference server. */
    install(options: PlatformOptions = {}) {
      relay = target.install({ baseURL: server.url, refresh, exchange: target.exchange, loginPage: '/pages/login/index', ...options })
      return relay
    },
    async setup(options: PlatformOptions = {}, pages?: string[]) {
      await t.load(pages)
      return t.install(options)
    },
    /** Logs `r` in directly at the server (no request through the platform yet), as `user`; one login counted. */
    async logIn(r: InstalledRelay, user = 'alice') {
      const before = server.stats().logins
      await r.setCredentials(await loginDirect(server.url, `code-${user}-direct-${++codes}`))
      expect(server.stats().logins).toBe(before + 1)
      return r
    },
    /** Installed and logged in as alice. */
    async loggedIn(options: PlatformOptions = {}, pages?: string[]) {
      return t.logIn(await t.setup(options, pages))
    },
    /** The platform's login API: wx.login or my.getAuthCode (uni.login calls it). */
    loginApi: weixin ? 'login' : 'getAuthCode',
    /** A failure as the platform reports it (Alipay's numbered `error`, WeChat's `errMsg`). */
    failure: (api: string, message: string, alipayError: number) =>
      weixin ? { errMsg: `${api}:fail ${message}` } : { error: alipayError, errorMessage: message },
    /** What a successful answer carries besides its data: WeChat's `errMsg` (uni adds it on Alipay), nothing on Alipay. */
    ok: (api: string) => (weixin || target.app === 'uni' ? { errMsg: `${api}:ok` } : {}),
    /** A non-2xx answer as the platform gives it without the adapter: Alipay's `my` has `status`, no `statusCode`. */
    bare: (status: number) => (weixin || target.app === 'uni' ? { statusCode: status } : { error: 19, status }),
    /**
     * What `fail` and a promise get for a final non-2xx answer on Alipay (`my` as it reports it, normalised;
     * uni's own failure); undefined on WeChat, where it is a success.
     */
    onFail: (status: number) =>
      weixin
        ? undefined
        : target.app === 'uni'
          ? { statusCode: status, errMsg: 'request:fail http status error' }
          : { error: 19, status, statusCode: status },
  }
  return t
}

export type AdapterContext = ReturnType<typeof useAdapter<Sim>>

/** Scenarios shared by wx, my, and uni on both. */
export function sharedAdapterTests(t: AdapterContext) {
  const onFail = (status: number) => t.onFail(status)
  const path = (status: number) => (onFail(status) ? 'fail' : 'success')

  it('20 requests + an upload + a download meeting an expired token: one refresh, every replay with the new token', async () => {
    await t.loggedIn()
    t.server.control({ expireAllNow: true })
    const results = await Promise.all([
      ...Array.from({ length: 20 }, (_, i) => t.get(`/api/item/${i}`)),
      t.app.uploadFile(t.upload({ formData: { note: 'hi' } })) as Promise<Res>,
      t.app.downloadFile({ url: `${t.server.url}/api/download/report.bin` }) as Promise<Res>,
    ])
    const stats = t.server.stats()
    expect(stats.refreshes).toBe(1)
    expect(stats.refreshAttempts).toBe(1)
    expect(stats.logins).toBe(1)
    for (let i = 0; i < 20; i++) {
      expect(t.hits(`/api/item/${i}`)).toEqual([
        [401, 1],
        [200, 2],
      ])
      expect(results[i]).toMatchObject({ statusCode: 200, data: { generation: 2, path: `/api/item/${i}` } })
    }
    expect(t.hits('/api/upload')).toEqual([
      [401, 1],
      [200, 2],
    ])
    expect(typeof results[20].data).toBe('string') // upload bodies arrive as strings
    expect(JSON.parse(results[20].data)).toMatchObject({ generation: 2, fields: { note: 'hi' }, file: { size: 13 } })
    expect(t.hits('/api/download/report.bin')).toEqual([
      [401, 1],
      [200, 2],
    ])
    expect(results[21]).toMatchObject({ statusCode: 200, ...t.ok('downloadFile') })
    expect(readFileSync(results[21].tempFilePath!)).toEqual(downloadContent('report.bin'))
  })

  it('callback and promise callers both get the replayed result, each callback exactly once, nobody pending', async () => {
    await t.loggedIn()
    t.server.control({ expireAllNow: true })
    const callbacks = Array.from({ length: 10 }, (_, i) => t.withCallbacks('request', { url: `/api/cb/${i}` }))
    const promises = Array.from({ length: 10 }, (_, i) => t.get(`/api/p/${i}`))
    for (const { task } of callbacks) expect(typeof task.abort).toBe('function')
    let resolved = 0
    for (const p of promises) p.then(() => resolved++)
    // Throws when a caller is still pending at the timeout.
    await vi.waitUntil(() => callbacks.every((c) => c.settled()) && resolved === 10, { timeout: 3000, interval: 10 })
    await t.settle() // a late duplicate success or a stray fail would be recorded by now
    for (const { seen } of callbacks) {
      expect(seen.order).toEqual(['success', 'complete'])
      expect(seen.success[0]).toMatchObject({ statusCode: 200, data: { generation: 2 } })
      expect(seen.complete[0]).toBe(seen.success[0])
    }
    for (const p of promises) await expect(p).resolves.toMatchObject({ statusCode: 200, data: { generation: 2 } })
    // Every caller was sent twice, expired then replayed: one replay each after the one refresh.
    for (let i = 0; i < 10; i++) {
      for (const route of [`/api/cb/${i}`, `/api/p/${i}`]) {
        expect(t.hits(route)).toEqual([
          [401, 1],
          [200, 2],
        ])
      }
    }
    expect(t.server.stats().refreshAttempts).toBe(1)
    expect(t.server.stats().refreshes).toBe(1)
  })

  it('the task handed to callback callers has abort() and progress listeners', async () => {
    await t.loggedIn()
    const { task, seen } = t.withCallbacks('uploadFile', t.upload())
    expect(typeof task.abort).toBe('function')
    expect(typeof task.onProgressUpdate).toBe('function')
    // wx and my hand out one object that is the task and the promise; uni hands callback callers its own task.
    expect(typeof task.then === 'function').toBe(t.target.patches)
    await vi.waitUntil(() => seen.complete.length === 1)
    expect(seen.success[0]).toMatchObject({ statusCode: 200 })
  })

  it('a late 401 for the old token is replayed with the new one and starts no second refresh', async () => {
    await t.loggedIn()
    t.server.control({ expireAllNow: true })
    const slow = t.get('/api/slow?delay=300')
    await t.get('/api/fast') // refreshes while the slow one's 401 is on its way back
    expect(t.server.stats().refreshes).toBe(1)
    await expect(slow).resolves.toMatchObject({ statusCode: 200, data: { generation: 2 } })
    expect(t.server.stats().refreshes).toBe(1)
    expect(t.hits('/api/slow')).toEqual([
      [401, 1],
      [200, 2],
    ])
  })

  const unauthorized = () => unauthorizedAt(t.server)

  it('back from the background past the known expiry: app show starts the one refresh, the first requests collect no 401', async () => {
    const { wall, clock } = wallClock()
    const r = await t.loggedIn({ clock })
    t.sim.life.hide()
    wall.now = r.getCredentials()!.expiresAt! + 3 * 3600_000 // three hours away; no timer ran meanwhile
    t.server.control({ expireAllNow: true })
    t.sim.life.show()
    // Refreshed on show, before any request asked for it.
    await vi.waitUntil(() => t.server.stats().refreshes === 1, { timeout: 3000, interval: 5 })
    const answers = await Promise.all(['/api/a', '/api/b', '/api/c', '/api/d', '/api/e'].map((route) => t.get(route)))
    expect(answers.map((a) => a.data.generation)).toEqual([2, 2, 2, 2, 2])
    for (const route of ['/api/a', '/api/b', '/api/c', '/api/d', '/api/e']) expect(t.hits(route), route).toEqual([[200, 2]])
    expect(unauthorized()).toBe(0)
    expect(t.server.stats()).toMatchObject({ refreshAttempts: 1, refreshes: 1 })
  })

  it('a refresh left hanging when the app was hidden is timed out on app show and retried once; every caller settles', async () => {
    const { wall, clock } = wallClock()
    // No retries of its own: the second attempt is the resume's, not a spent retry.
    await t.loggedIn({ clock, retry: { attempts: 0 } })
    t.server.control({ expireAllNow: true, failRefresh: { count: 1, mode: 'hang' } })
    const routes = ['/api/a', '/api/b', '/api/c']
    let settled = 0
    const calls = routes.map((route) => t.get(route).finally(() => settled++))
    await vi.waitUntil(() => t.server.stats().refreshAttempts === 1, { timeout: 3000, interval: 5 })
    t.sim.life.hide()
    wall.now += 3600_000 // an hour away: the 10 s timeout's timer never ran, and the answer never comes
    t.sim.life.show()
    await vi.waitUntil(() => settled === routes.length, { timeout: 3000, interval: 5 })
    expect((await Promise.all(calls)).map((a) => a.data.generation)).toEqual([2, 2, 2])
    for (const route of routes)
      expect(t.hits(route), route).toEqual([
        [401, 1],
        [200, 2],
      ])
    expect(t.server.stats()).toMatchObject({ refreshAttempts: 2, refreshes: 1 })
  })

  it('offline: a needed refresh waits, no attempt reaches the server; back online: exactly one refresh, every waiter replayed', async () => {
    const { wall, clock } = wallClock()
    const r = await t.loggedIn({ clock, retry: { attempts: 2, backoffMs: 10 } })
    t.sim.life.setOnline(false)
    wall.now = r.getCredentials()!.expiresAt! + 1000 // expired while offline
    t.server.control({ expireAllNow: true })
    const routes = Array.from({ length: 6 }, (_, i) => `/api/offline/${i}`)
    let settled = 0
    const calls = routes.map((route) => t.get(route).finally(() => settled++))
    // Without the wait, the retries (10 ms apart) would have failed every caller by now.
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(settled).toBe(0)
    expect(t.server.stats().refreshAttempts).toBe(0)
    t.sim.life.setOnline(true)
    await vi.waitUntil(() => settled === routes.length, { timeout: 3000, interval: 5 })
    expect((await Promise.all(calls)).map((a) => a.data.generation)).toEqual([2, 2, 2, 2, 2, 2])
    for (const route of routes) expect(t.hits(route), route).toEqual([[200, 2]])
    expect(t.server.stats()).toMatchObject({ refreshAttempts: 1, refreshes: 1 })
  })

  it('offline past offlineWaitMs: every caller gets REFRESH_FAILED naming offline, nobody pending, still logged in', async () => {
    const { wall, clock } = wallClock()
    const r = await t.loggedIn({ clock, offlineWaitMs: 200 })
    const creds = r.getCredentials()!
    t.sim.life.setOnline(false)
    wall.now = creds.expiresAt! + 1000
    const results = await Promise.all(['/api/x', '/api/y', '/api/z'].map((route) => t.settled(t.get(route))))
    for (const { ok, value } of results) {
      expect(ok).toBe(false)
      expect(value).toMatchObject({ code: 'REFRESH_FAILED', message: 'the device was offline for 200 ms' })
    }
    expect(t.server.stats().refreshAttempts).toBe(0)
    expect(r.getCredentials()).toMatchObject({ accessToken: creds.accessToken })
    expect(t.sim.navigations).toEqual([])
  })

  it('uninstall stops listening: an app show after it starts no refresh', async () => {
    const { wall, clock } = wallClock()
    const r = await t.loggedIn({ clock })
    expect(t.sim.life.listeners()).toBeGreaterThan(0)
    r.uninstall()
    wall.now = r.getCredentials()!.expiresAt! + 3600_000
    t.sim.life.show()
    await t.settle()
    expect(t.server.stats().refreshAttempts).toBe(0)
    // uni on Alipay hands the platform wrappers of our listeners, which its off… cannot find: they stay, silent.
    if (t.target.app !== 'uni' || t.target.family === 'weixin') expect(t.sim.life.listeners()).toBe(0)
  })

  it('requests inside the refresh-ahead window wait for one refresh and go out only with the new token', async () => {
    const { wall, clock } = wallClock()
    const r = await t.loggedIn({ clock })
    const { expiresAt } = r.getCredentials()!
    expect(expiresAt).toEqual(expect.any(Number))
    wall.now = expiresAt! - 30_000 // still valid, but inside the default 60 s window
    const answers = await Promise.all([t.get('/api/a'), t.get('/api/b'), t.get('/api/c')])
    expect(answers.map((a) => a.data.generation)).toEqual([2, 2, 2])
    expect(t.server.stats().refreshes).toBe(1)
    // Held before going out: no request spent the old token on the way.
    for (const route of ['/api/a', '/api/b', '/api/c']) expect(t.hits(route), route).toEqual([[200, 2]])
  })

  it('after a logout a request goes out once, without a token, and fails LOGGED_OUT: no silent login, no refresh', async () => {
    const r = await t.loggedIn()
    await r.clear()
    const logins = t.server.stats().logins
    const { ok, value } = await t.settled(t.get('/api/after-logout'))
    expect(ok).toBe(false)
    expect(String(value.errMsg || value.errorMessage || value.message)).toContain('LOGGED_OUT')
    expect(t.hits('/api/after-logout')).toEqual([[401, null]])
    expect(t.server.stats()).toMatchObject({ logins, refreshAttempts: 0 })
  })

  it('an expiry that persists after the refresh: one refresh, one replay, then REPLAY_LIMIT', async () => {
    await t.loggedIn({ isExpired: (res) => res.statusCode === 401 || (res.data as { path?: string }).path === '/api/always' })
    const { seen, settled } = t.withCallbacks('request', { url: '/api/always' })
    await vi.waitUntil(settled)
    await t.settle()
    expect(seen.order).toEqual(['fail', 'complete'])
    expect(seen.fail[0]).toMatchObject({ code: 'REPLAY_LIMIT', errMsg: 'request:fail REPLAY_LIMIT' })
    expect(t.hits('/api/always')).toEqual([
      [200, 1],
      [200, 2],
    ])
    expect(t.server.stats().refreshAttempts).toBe(1)
  })

  it('body-code expiry (HTTP 200 with code 99997, then 1002) refreshes once each time', async () => {
    await t.loggedIn({ expired: { codes: [99997, 1002] } })
    let generation = 1
    for (const code of ['99997', '1002'] as const) {
      t.server.control({ expiryMode: code, expireAllNow: true })
      generation++
      const results = await Promise.all(Array.from({ length: 5 }, (_, i) => t.get(`/api/b${code}/${i}`)))
      expect(results.map((r) => [r.statusCode, r.data.code, r.data.generation])).toEqual(Array(5).fill([200, 0, generation]))
      expect(t.server.stats().refreshes).toBe(generation - 1)
    }
  })

  it('an upload answered with a string body code is parsed, refreshed and the file re-sent', async () => {
    await t.loggedIn({ expired: { status: [401], codes: ['0002'] } })
    t.server.control({ expiryMode: '0002', expireAllNow: true })
    const res = (await t.app.uploadFile(t.upload())) as Res
    expect(typeof res.data).toBe('string')
    expect(JSON.parse(res.data)).toMatchObject({ ok: true, code: 0, generation: 2, file: { size: 13 } })
    expect(t.hits('/api/upload')).toEqual([
      [200, 1],
      [200, 2],
    ])
    expect(t.server.stats().refreshes).toBe(1)
  })

  it('a download still answered 401 after the session ended is a failure, not a success', async () => {
    await t.loggedIn({ exchange: undefined })
    t.server.control({ revokeUser: 'alice', expireAllNow: true })
    const { seen, settled } = t.withCallbacks('downloadFile', { url: `${t.server.url}/api/download/x.bin` })
    await vi.waitUntil(settled)
    await t.settle()
    expect(seen.order).toEqual(['fail', 'complete'])
    expect(seen.fail[0]).toMatchObject({ code: 'SESSION_EXPIRED', errMsg: 'downloadFile:fail SESSION_EXPIRED' })
    expect(t.hits('/api/download/x.bin')).toEqual([[401, 1]])
    await expect(t.app.downloadFile({ url: `${t.server.url}/api/download/y.bin` })).rejects.toMatchObject({ code: 'SESSION_EXPIRED' })
  })

  it('task.abort() on a callback call waiting for the refresh fails it with ABORTED; it is never replayed', async () => {
    const gated = gatedRefresh()
    const r = await t.loggedIn({ refresh: gated.refresh })
    t.server.control({ expireAllNow: true })
    const first = t.get('/api/first')
    await vi.waitUntil(() => r.refreshing)
    const waiting = waitingFor(r, '/api/aborted')
    const { task, seen } = t.withCallbacks('request', { url: '/api/aborted' })
    // Aborted after `queued`, so the engine's listener on the signal (not its pre-check) must reject it, and
    // before the refresh is released.
    await waiting
    task.abort()
    await vi.waitUntil(() => seen.complete.length === 1)
    expect(r.refreshing).toBe(true)
    expect(t.server.stats().refreshes).toBe(0)
    expect(seen.order).toEqual(['fail', 'complete'])
    expect(seen.fail[0]).toMatchObject({ code: 'ABORTED', errMsg: 'request:fail abort' })
    // The task of a held call is also a promise (uni's too): it rejects as well (callback callers never look at
    // it: no unhandled rejection).
    await expect(task).rejects.toMatchObject({ code: 'ABORTED', errMsg: 'request:fail abort' })
    gated.open()
    await expect(first).resolves.toMatchObject({ statusCode: 200, data: { generation: 2 } })
    // Held back while the refresh ran (uni too: its invoke cancels the call and tokenrelay sends it later): never sent.
    expect(t.hits('/api/aborted')).toEqual([])
    expect(t.server.stats().refreshes).toBe(1)
    await t.settle()
    expect(seen.order).toEqual(['fail', 'complete'])
  })

  it('promise callers get abort() on the promise: waiting for the refresh, it rejects with ABORTED', async () => {
    const gated = gatedRefresh()
    const r = await t.loggedIn({ refresh: gated.refresh })
    t.server.control({ expireAllNow: true })
    const first = t.get('/api/first')
    await vi.waitUntil(() => r.refreshing)
    const waiting = waitingFor(r, '/api/aborted')
    const p = t.get('/api/aborted')
    expect(typeof p.abort).toBe('function')
    await waiting
    p.abort()
    await expect(p).rejects.toMatchObject({ code: 'ABORTED', errMsg: 'request:fail abort' })
    gated.open()
    await expect(first).resolves.toMatchObject({ statusCode: 200 })
    expect(t.hits('/api/aborted')).toEqual([])
  })

  it('abort() during the replay aborts the replay', async () => {
    const r = await t.loggedIn()
    t.server.control({ expireAllNow: true })
    const replaying = new Promise<void>((resolve) => r.on('replay', () => resolve()))
    const { task, seen, settled } = t.withCallbacks('request', { url: '/api/slow?delay=400' })
    await replaying
    task.abort()
    await vi.waitUntil(settled) // without forwarding, the replay would answer 200 after its 400 ms
    await t.settle()
    expect(seen.order).toEqual(['fail', 'complete'])
    expect(seen.fail[0]).toMatchObject({ code: 'ABORTED', errMsg: 'request:fail abort' })
  })

  it('abort() on a call in flight: callback callers and promise callers get ABORTED once', async () => {
    await t.loggedIn()
    const sent = t.sim.state.requests
    const { task, seen } = t.withCallbacks('request', { url: '/api/slow?delay=2000' })
    const p = t.get('/api/slow?delay=300')
    await vi.waitUntil(() => t.sim.state.requests === sent + 2)
    task.abort()
    p.abort()
    await vi.waitUntil(() => seen.complete.length === 1)
    expect(seen.order).toEqual(['fail', 'complete'])
    expect(seen.fail[0]).toMatchObject({ code: 'ABORTED' })
    // uni gives promise callers no task: the answer is discarded when it arrives.
    await expect(p).rejects.toMatchObject({ code: 'ABORTED' })
    await t.settle()
    expect(seen.order).toEqual(['fail', 'complete'])
  })

  it('final answers go back the platform’s way: a 403 on success (WeChat) or on fail (Alipay), first answer or replay', async () => {
    await t.loggedIn()
    const { seen } = t.withCallbacks('request', { url: '/api/forbidden' })
    await vi.waitUntil(() => seen.complete.length === 1)
    await t.settle()
    expect(seen.order).toEqual([path(403), 'complete'])
    expect(seen.complete[0]).toMatchObject({ statusCode: 403, data: { error: 'insufficient_scope' } })
    if (onFail(403)) expect(seen.fail[0]).toMatchObject(onFail(403)!)
    expect(t.server.stats().refreshAttempts).toBe(0) // insufficient_scope is not an expiry
    // The same when the 403 is the answer to a replay (first answer 401, refresh, then 403).
    t.server.control({ expireAllNow: true })
    const replayed = t.withCallbacks('request', { url: '/api/forbidden' })
    const p = t.settled(t.get('/api/forbidden'))
    await vi.waitUntil(() => replayed.settled())
    await t.settle()
    expect(replayed.seen.order).toEqual([path(403), 'complete'])
    expect(replayed.seen.complete[0]).toMatchObject({ statusCode: 403, data: { error: 'insufficient_scope' } })
    if (onFail(403)) expect(replayed.seen.fail[0]).toMatchObject(onFail(403)!)
    expect(await p).toMatchObject(onFail(403) ? { ok: false, value: onFail(403) } : { ok: true, value: { statusCode: 403 } })
    expect(t.hits('/api/forbidden').map(([status]) => status)).toEqual([403, 401, 401, 403, 403])
    expect(t.server.stats().refreshes).toBe(1)
  })

  it('the session ends once: every caller fails with SESSION_EXPIRED, one navigation, storage cleared, and the way back', async () => {
    const onSessionExpired = vi.fn()
    await t.loggedIn({ onSessionExpired, exchange: undefined }, ['pages/home/index', 'pages/detail/index'])
    expect(t.sim.storage.get('tokenrelay')).toEqual(expect.stringContaining('accessToken'))
    t.server.control({ revokeUser: 'alice', expireAllNow: true })
    const callbacks = Array.from({ length: 5 }, (_, i) => t.withCallbacks('request', { url: `/api/cb/${i}` }))
    const results = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => t.get(`/api/x/${i}`)))
    await vi.waitUntil(() => callbacks.every((c) => c.settled()), { timeout: 3000 })
    await t.settle()
    for (const r of results) {
      expect(r).toMatchObject({ status: 'rejected', reason: { code: 'SESSION_EXPIRED', errMsg: 'request:fail SESSION_EXPIRED' } })
    }
    for (const { seen } of callbacks) {
      expect(seen.order).toEqual(['fail', 'complete'])
      expect(seen.fail[0]).toMatchObject({ code: 'SESSION_EXPIRED', errMsg: 'request:fail SESSION_EXPIRED' })
    }
    expect(onSessionExpired).toHaveBeenCalledTimes(1)
    expect(t.sim.navigations).toEqual([{ api: 'navigateTo', url: '/pages/login/index' }])
    expect(t.sim.storage.has('tokenrelay')).toBe(false)
    expect(t.server.stats().refreshAttempts).toBe(1)
    // After the user logs in again, returnAfterLogin() goes back to where they were: the page below the login page.
    await t.relay.setCredentials({ accessToken: 'x' })
    t.relay.returnAfterLogin()
    expect(t.sim.navigations[1]).toEqual({ api: 'navigateBack', url: 'pages/login/index' })
  })

  it('the way back stacks no second copy: navigateBack to the page below the login page, its listeners told; once', async () => {
    await t.loggedIn({ exchange: undefined }, ['pages/home/index', 'pages/detail/index'])
    t.sim.stack[1].options = { id: '7' }
    const routes = () => t.sim.stack.map((p) => p.route)
    const returns: ReturnAfterLogin[] = []
    const off = t.relay.onReturnAfterLogin((to) => returns.push(to))
    t.relay.onReturnAfterLogin(() => raise(new Error('a listener threw'))) // reported, the others still run
    t.server.control({ revokeUser: 'alice', expireAllNow: true })
    await expect(t.get('/api/x')).rejects.toMatchObject({ code: 'SESSION_EXPIRED' })
    expect(routes()).toEqual(['pages/home/index', 'pages/detail/index', 'pages/login/index'])
    await t.logIn(t.relay)
    t.relay.returnAfterLogin()
    expect(routes()).toEqual(['pages/home/index', 'pages/detail/index'])
    expect(t.sim.stack[1].options).toEqual({ id: '7' })
    expect(t.sim.navigations).toEqual([
      { api: 'navigateTo', url: '/pages/login/index' },
      { api: 'navigateBack', url: 'pages/login/index' },
    ])
    expect(returns).toEqual([{ url: '/pages/detail/index?id=7', via: 'navigateBack' }])
    // Nothing more to return to until the next session end.
    t.relay.returnAfterLogin()
    expect(t.sim.navigations).toHaveLength(2)
    off()
  })

  it('the way back opens the page (redirectTo) when it is not right below the login page, and the stack keeps one copy', async () => {
    await t.loggedIn(
      { exchange: undefined },
      Array.from({ length: 10 }, (_, i) => `pages/p${i}/index`),
    )
    const returns: ReturnAfterLogin[] = []
    t.relay.onReturnAfterLogin((to) => returns.push(to))
    t.server.control({ revokeUser: 'alice', expireAllNow: true })
    await t.get('/api/x').catch(() => {})
    // A full stack: the login page replaced p9 (redirectTo), so p9 is not below it.
    expect(t.sim.stack.map((p) => p.route).slice(-2)).toEqual(['pages/p8/index', 'pages/login/index'])
    await t.logIn(t.relay)
    t.relay.returnAfterLogin()
    expect(t.sim.navigations.at(-1)).toEqual({ api: 'redirectTo', url: '/pages/p9/index' })
    expect(t.sim.stack.map((p) => p.route)).toEqual(Array.from({ length: 10 }, (_, i) => `pages/p${i}/index`))
    expect(returns).toEqual([{ url: '/pages/p9/index', via: 'redirectTo' }])
  })

  it('a relative URL with no baseURL is named in one warning, at the first request or refresh that has one', async () => {
    const said = (warn: ReturnType<typeof vi.fn>) => warn.mock.calls.map((c) => String(c[0])).filter((m) => m.includes('relative URL'))
    await t.load()
    const warn = vi.fn()
    t.relay = t.target.install({ refresh, exchange: t.target.exchange, retry: { attempts: 0 }, logger: { log() {}, warn } })
    await t.settled(t.get('/api/relative'))
    await t.settled(t.get('/api/again'))
    expect(said(warn)).toEqual([
      expect.stringMatching(
        /^\[tokenrelay\] relative URL '\/api\/relative' with no baseURL: mini programs cannot send it\. Set baseURL in the install\(\) options\.$/,
      ),
    ])
    t.relay.uninstall()
    // Absolute request URLs, a relative refresh URL: the refresh is named.
    const later = vi.fn()
    const r = await t.logIn((t.relay = t.target.install({ refresh, retry: { attempts: 0 }, logger: { log() {}, warn: later } })))
    t.server.control({ expireAllNow: true })
    await expect(t.get(`${t.server.url}/api/absolute`)).rejects.toMatchObject({ code: 'REFRESH_FAILED' })
    expect(said(later)).toEqual([expect.stringMatching(/^\[tokenrelay\] relative URL '\/auth\/refresh' with no baseURL/)])
    expect(r.getCredentials()).not.toBeNull()
  })

  it('a failing navigation is reported through the logger once, not left as an unhandled rejection', async () => {
    const unhandled = trackUnhandled()
    try {
      const logger = { log: vi.fn(), warn: vi.fn() }
      await t.loggedIn({ exchange: undefined, logger })
      const failure = t.failure('navigateTo', 'page not found', 11)
      t.sim.api.navigateTo = (o: { fail(e: object): void }) => o.fail(failure)
      t.server.control({ revokeUser: 'alice', expireAllNow: true })
      await expect(t.get('/api/x')).rejects.toMatchObject({ code: 'SESSION_EXPIRED' })
      await vi.waitUntil(() => logger.warn.mock.calls.length > 0)
      await unhandled.settle()
      expect(logger.warn).toHaveBeenCalledTimes(1)
      expect(logger.warn.mock.calls[0][0]).toMatch(
        /^\[tokenrelay\] navigation to the login page failed: (navigateTo:fail )?page not found$/,
      )
      // uni turns Alipay's error 11 into an errMsg; wx and my hand on what the platform gave.
      expect(logger.warn.mock.calls[0][1]).toMatchObject(t.target.app === 'uni' ? { errMsg: 'navigateTo:fail page not found' } : failure)
      expect(unhandled.reasons).toEqual([])
    } finally {
      unhandled.stop()
    }
  })

  it('a full page stack uses redirectTo; a tabBar login page uses switchTab', async () => {
    await t.loggedIn(
      { exchange: undefined },
      Array.from({ length: 10 }, (_, i) => `pages/p${i}/index`),
    )
    t.server.control({ revokeUser: 'alice', expireAllNow: true })
    await t.get('/api/x').catch(() => {})
    expect(t.sim.navigations).toEqual([{ api: 'redirectTo', url: '/pages/login/index' }])
    t.relay.uninstall()
    await t.loggedIn({ exchange: undefined, ...t.target.tabBarLogin() })
    t.server.control({ revokeUser: 'alice', expireAllNow: true })
    await t.get('/api/y').catch(() => {})
    expect(t.sim.navigations).toEqual([{ api: 'switchTab', url: '/pages/login/index' }])
  })

  it('logs in silently on the first request when there are no credentials', async () => {
    await t.setup()
    await expect(t.get('/api/first')).resolves.toMatchObject({ statusCode: 200, data: { generation: 1 } })
    // It waits for the login, then goes out once, with the token: never without one.
    expect(t.hits('/api/first')).toEqual([[200, 1]])
    expect(t.server.stats().logins).toBe(1)
    expect(JSON.parse(t.sim.storage.get('tokenrelay') as string)).toMatchObject({ accessToken: expect.any(String) })
  })

  it('silent re-login through the platform login rescues a revoked refresh token', async () => {
    await t.loggedIn()
    t.server.control({ revokeUser: 'alice', expireAllNow: true })
    await expect(t.get('/api/rescued')).resolves.toMatchObject({ statusCode: 200, data: { generation: 1, user: 'alice' } })
    expect(t.server.stats()).toMatchObject({ logins: 2, refreshes: 0, refreshFailures: 1 })
    expect(t.sim.navigations).toEqual([])
  })

  it('a platform login that fails otherwise stays transient: retried, then REFRESH_FAILED, no login page', async () => {
    await t.setup({ retry: { attempts: 1, backoffMs: 10 } })
    let calls = 0
    t.sim.api[t.loginApi] = (o: { fail(e: object): void }) => {
      calls++
      setTimeout(() => o.fail(t.failure('login', 'network error', 12)))
    }
    await expect(t.get('/api/first')).rejects.toMatchObject({ code: 'REFRESH_FAILED' })
    expect(calls).toBe(2)
    expect(t.sim.navigations).toEqual([])
  })

  it('a platform login that yields no code ends the session: SESSION_EXPIRED, exchange never called, one navigation, no retry', async () => {
    const exchangeCode = vi.fn(t.target.exchange)
    await t.setup({ exchange: exchangeCode, retry: { attempts: 2, backoffMs: 10 } })
    let logins = 0
    const noCode = t.target.family === 'weixin' ? { errMsg: 'login:ok' } : {}
    t.sim.api[t.loginApi] = (o: { success(r: object): void }) => void (logins++, setTimeout(() => o.success(noCode)))
    await expect(t.get('/api/first')).rejects.toMatchObject({ code: 'SESSION_EXPIRED', errMsg: 'request:fail SESSION_EXPIRED' })
    expect(exchangeCode).not.toHaveBeenCalled()
    expect(logins).toBe(1)
    expect(t.sim.navigations).toEqual([{ api: 'navigateTo', url: '/pages/login/index' }])
  })

  it('stores credentials in platform storage and survives a throwing setStorageSync', async () => {
    await t.loggedIn()
    expect(JSON.parse(t.sim.storage.get('tokenrelay') as string)).toMatchObject({ accessToken: expect.any(String) })
    const errors: unknown[] = []
    t.relay.on('error', (e) => errors.push(e.error))
    t.sim.api.setStorageSync = () => raise(new Error('setStorageSync:fail exceed storage max size 10MB'))
    t.server.control({ expireAllNow: true })
    await expect(t.get('/api/after-full')).resolves.toMatchObject({ data: { generation: 2 } })
    expect(String(errors[0])).toContain('exceed storage')
  })

  it('auth: false sends no token, never refreshes, and a 401 there reaches the caller as the platform reports it', async () => {
    await t.loggedIn()
    const { seen } = t.withCallbacks('request', { url: '/api/public', auth: false })
    await vi.waitUntil(() => seen.complete.length === 1)
    await t.settle()
    expect(seen.order).toEqual([path(401), 'complete'])
    expect(seen.complete[0]).toMatchObject({ statusCode: 401 })
    const res = await t.settled(t.get('/api/public', { auth: false }))
    expect(res).toMatchObject(onFail(401) ? { ok: false, value: onFail(401) } : { ok: true, value: { statusCode: 401 } })
    expect(t.hits('/api/public')).toEqual([
      [401, null],
      [401, null],
    ])
    expect(t.server.stats().refreshAttempts).toBe(0)
  })

  /**
   * Loads the platform, records the Authorization header of every request it sends (uni's too: its runtime calls
   * the platform underneath), installs with `authRequests` and logs alice in.
   */
  async function withAuthRequests(options: PlatformOptions = {}) {
    await t.load()
    const sent: { url: string; token: string | undefined }[] = []
    const request = t.sim.api.request
    t.sim.api.request = (o: Obj) => {
      const header = (o.header || o.headers || {}) as Record<string, string>
      sent.push({ url: String(o.url).replace(t.server.url, ''), token: header.Authorization || header.authorization })
      return request(o)
    }
    const warn = vi.fn()
    const spec = { login: '/auth/login', logout: '/auth/logout' }
    const r = await t.logIn(t.install({ exchange: undefined, logger: { log() {}, warn }, authRequests: authRequests(spec), ...options }))
    const stored = () => JSON.parse((t.sim.storage.get('tokenrelay') as string | undefined) || 'null')
    const tokenOf = (route: string) => sent.filter((s) => s.url.split('?')[0] === route).map((s) => s.token)
    return { r, warn, stored, tokenOf }
  }

  it('authRequests: a login is sent bare and its answer adopted (next request and storage carry it); another host’s never is', async () => {
    const { r, warn, stored, tokenOf } = await withAuthRequests()
    const alice = r.getCredentials()!.accessToken
    const res = await t.get('/auth/login', { method: 'POST', data: { code: 'code-bob-page-1' } })
    expect(res).toMatchObject({ statusCode: 200, data: { user: { id: 'bob' } } })
    // Adopted before the caller got the answer.
    expect(r.getCredentials()!.accessToken).toBe(res.data.accessToken)
    expect(stored()).toMatchObject({ accessToken: res.data.accessToken, refreshToken: res.data.refreshToken })
    expect(tokenOf('/auth/login')).toEqual([undefined]) // logged in as alice, yet sent without her token
    await expect(t.get('/api/who')).resolves.toMatchObject({ data: { user: 'bob' } })
    expect(tokenOf('/api/who')).toEqual([`Bearer ${res.data.accessToken}`])
    expect(alice).not.toBe(res.data.accessToken)
    // A login page on a host the token may not go to: its credentials are not taken.
    const other = await startServer({ port: 0 })
    try {
      const elsewhere = await t.get(`${other.url}/auth/login`, { method: 'POST', data: { code: 'code-eve-1' } })
      expect(elsewhere).toMatchObject({ statusCode: 200, data: { user: { id: 'eve' } } })
      expect(other.stats().logins).toBe(1)
      expect(r.getCredentials()!.accessToken).toBe(res.data.accessToken)
      await expect(t.get('/api/who')).resolves.toMatchObject({ data: { user: 'bob' } })
    } finally {
      await other.close()
    }
    expect(t.server.stats()).toMatchObject({ logins: 2, refreshAttempts: 0 })
    expect(warn).not.toHaveBeenCalled()
  })

  it('authRequests: a login answer without valid credentials is reported with the keys received; the old ones stay', async () => {
    // The picker finds no accessToken where it looks, as with a server whose shape the app got wrong.
    const { r, warn, stored } = await withAuthRequests({
      authRequests: authRequests({
        login: '/auth/login',
        credentials: (res) => ({ token: (res.data as { accessToken: string }).accessToken }),
      }),
    })
    const before = r.getCredentials()!.accessToken
    const res = await t.get('/auth/login', { method: 'POST', data: { code: 'code-bob-page-2' } })
    expect(res).toMatchObject({ statusCode: 200, data: { user: { id: 'bob' } } }) // the caller still gets the answer
    expect(warn.mock.calls.map((c) => c[0])).toEqual([
      `[tokenrelay] login ${t.server.url}/auth/login answered 200 with no accessToken (received keys: token): credentials unchanged (see authRequests.credentials)`,
    ])
    expect(r.getCredentials()!.accessToken).toBe(before)
    expect(stored()).toMatchObject({ accessToken: before })
    await expect(t.get('/api/who')).resolves.toMatchObject({ data: { user: 'alice' } })
  })

  it('authRequests: a logout goes out once with the token during a refresh, then the session ends: waiters LOGGED_OUT, storage empty, no token after', async () => {
    const gated = gatedRefresh()
    const { r, stored, tokenOf } = await withAuthRequests({ refresh: gated.refresh })
    const token = r.getCredentials()!.accessToken
    const manual = t.settled(r.refresh()) // held at the gate: a refresh is running
    await vi.waitUntil(() => r.refreshing, { timeout: 2000 })
    const waiting = t.settled(t.get('/api/waiting'))
    // Bounded: a logout held for the refresh would wait for a gate that only opens below.
    const held = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the logout was held for the refresh')), 2000))
    const out = await Promise.race([t.get('/auth/logout', { method: 'POST', data: {} }), held])
    expect(out).toMatchObject({ statusCode: 200, data: { ok: true } })
    // At the server: one logout, with alice's token (it revoked her login's family).
    expect(t.server.stats().hits['/auth/logout'].map((h) => [h.status, h.user, h.generation])).toEqual([[200, 'alice', 1]])
    expect(t.server.stats()).toMatchObject({ logouts: 1, familiesRevoked: 1 })
    expect(tokenOf('/auth/logout')).toEqual([`Bearer ${token}`])
    expect(await waiting).toMatchObject({ ok: false, value: { code: 'LOGGED_OUT' } })
    expect(await manual).toMatchObject({ ok: false, value: { code: 'LOGGED_OUT' } })
    expect(r.getCredentials()).toBeNull()
    expect(stored()).toBeNull()
    expect(t.hits('/api/waiting')).toEqual([])
    gated.open()
    await t.settled(t.get('/api/after'))
    expect(t.hits('/api/after')[0]).toEqual([401, null])
    expect(tokenOf('/api/after')[0]).toBeUndefined()
  })

  it('authRequests: a logout answered 401 (its token expired) is not refreshed nor replayed, and still clears', async () => {
    const { r, stored, tokenOf } = await withAuthRequests()
    const token = r.getCredentials()!.accessToken
    t.server.control({ expireAllNow: true })
    const out = await t.settled(t.get('/auth/logout', { method: 'POST', data: {} }))
    expect(out.value).toMatchObject({ statusCode: 401 }) // on success (WeChat) or fail (Alipay), as the platform reports it
    expect(t.hits('/auth/logout')).toEqual([[401, 1]])
    expect(tokenOf('/auth/logout')).toEqual([`Bearer ${token}`])
    expect(t.server.stats().refreshAttempts).toBe(0)
    expect(r.getCredentials()).toBeNull()
    expect(stored()).toBeNull()
  })

  it('no token goes to another host, and its 401 is not refreshed', async () => {
    await t.loggedIn()
    const other = await startServer({ port: 0 })
    try {
      const { seen } = t.withCallbacks('request', { url: `${other.url}/api/elsewhere` })
      await vi.waitUntil(() => seen.complete.length === 1)
      expect(seen.complete[0]).toMatchObject({ statusCode: 401 })
      const res = await t.settled(t.get(`${other.url}/api/elsewhere`))
      expect(res.value).toMatchObject({ statusCode: 401 })
      await t.settled(t.app.downloadFile({ url: `${other.url}/api/download/e.bin` }))
      expect(other.stats().hits['/api/elsewhere'].map((h) => h.generation)).toEqual([null, null])
      expect(other.stats().hits['/api/download/e.bin'].map((h) => h.generation)).toEqual([null])
      expect(t.server.stats().refreshAttempts).toBe(0)
    } finally {
      await other.close()
    }
  })

  it('uninstall restores the platform: no token, a 401 left alone; installing again works', async () => {
    await t.load()
    const originals = { request: t.app.request, uploadFile: t.app.uploadFile, downloadFile: t.app.downloadFile }
    const r = await t.logIn(t.install())
    if (t.target.patches)
      for (const name of ['request', 'uploadFile', 'downloadFile'] as const) expect(t.app[name]).not.toBe(originals[name])
    await expect(t.get('/api/before')).resolves.toMatchObject({ statusCode: 200 })
    r.uninstall()
    // (uni's getters hand out a new function each time: only what install() replaced can be compared.)
    if (t.target.patches) for (const name of ['request', 'uploadFile', 'downloadFile'] as const) expect(t.app[name]).toBe(originals[name])
    expect(await t.answer(`${t.server.url}/api/after`)).toMatchObject(t.bare(401))
    expect(t.hits('/api/before')).toEqual([[200, 1]])
    expect(t.hits('/api/after')).toEqual([[401, null]])
    expect(t.server.stats().refreshAttempts).toBe(0)
    // Installing again works (and a second install() replaces the first instead of stacking).
    await t.loggedIn()
    t.target.install({ baseURL: t.server.url, refresh }).uninstall()
    await t.answer(`${t.server.url}/api/again`)
    expect(t.hits('/api/again')).toEqual([[401, null]])
  })

  it('install() twice: the second relay replaces the first, one warning names both call sites, uninstall() is idempotent', async () => {
    await t.load()
    const originals = { request: t.app.request, uploadFile: t.app.uploadFile, downloadFile: t.app.downloadFile }
    const warn = vi.fn()
    const logger = { log() {}, warn }
    const first = await t.logIn(t.install({ logger }), 'alice')
    const second = (t.relay = t.target.install({ baseURL: t.server.url, refresh, logger }))
    await t.logIn(second, 'bob')
    // The platform sees the second relay's token, sent once: nothing of the first is left around it.
    await expect(t.get('/api/who')).resolves.toMatchObject({ statusCode: 200, data: { user: 'bob' } })
    expect(t.server.stats().hits['/api/who'].map((h) => h.user)).toEqual(['bob'])
    expect(warn).toHaveBeenCalledTimes(1)
    expect(warn.mock.calls[0][0]).toMatch(new RegExp(`^\\[tokenrelay\\] tokenrelay/${t.target.name} installed twice`))
    expect(warn.mock.calls[0][0].match(/adapter-suite\.ts:\d+:\d+/g)).toHaveLength(2)
    // The first was uninstalled by the second: uninstalling it again touches nothing.
    first.uninstall()
    if (t.target.patches) expect(t.app.request).not.toBe(originals.request)
    await expect(t.get('/api/still')).resolves.toMatchObject({ statusCode: 200, data: { user: 'bob' } })
    second.uninstall()
    second.uninstall()
    if (t.target.patches) for (const name of ['request', 'uploadFile', 'downloadFile'] as const) expect(t.app[name]).toBe(originals[name])
    await t.answer(`${t.server.url}/api/after`)
    expect(t.hits('/api/after')).toEqual([[401, null]])
    expect(warn).toHaveBeenCalledTimes(1)
  })

  it('a throwing success or fail callback: complete still runs, last; the error is reported once; no unhandled rejection', async () => {
    const unhandled = trackUnhandled()
    try {
      const warn = vi.fn()
      await t.loggedIn({ exchange: undefined, logger: { log() {}, warn } })
      const events: string[] = []
      const thrown = [
        new Error('success threw'),
        new Error('replayed success threw'),
        new Error('403 callback threw'),
        new Error('fail threw'),
      ]
      const record = (name: string, error?: Error) => () => (events.push(name), error && raise(error))
      // Answered at once (uni calls the callbacks itself).
      t.app.request({ url: '/api/ok', success: record('success', thrown[0]), fail: record('fail'), complete: record('complete') })
      await vi.waitUntil(() => events.length >= 2)
      // Expired, refreshed and replayed: tokenrelay calls them.
      t.server.control({ expireAllNow: true })
      t.app.request({ url: '/api/replayed', success: record('success', thrown[1]), fail: record('fail'), complete: record('complete') })
      await vi.waitUntil(() => events.length >= 4)
      // A final 403: success on WeChat, fail on Alipay (which the my adapter reproduces).
      t.app.request({
        url: '/api/forbidden',
        success: record('success', thrown[2]),
        fail: record('fail', thrown[2]),
        complete: record('complete'),
      })
      await vi.waitUntil(() => events.length >= 6)
      // The session ends: fail.
      t.server.control({ revokeUser: 'alice', expireAllNow: true })
      t.app.request({ url: '/api/ended', success: record('success'), fail: record('fail', thrown[3]), complete: record('complete') })
      await vi.waitUntil(() => events.length >= 8)
      await t.settle()
      await unhandled.settle()
      expect(events).toEqual(['success', 'complete', 'success', 'complete', path(403), 'complete', 'fail', 'complete'])
      for (const error of thrown) expect(warn.mock.calls.filter((c) => c.includes(error))).toHaveLength(1)
      expect(unhandled.reasons).toEqual([])
    } finally {
      unhandled.stop()
    }
  })
}
