import type { RelayRequest, RelayResponse, Stamped, Transport } from '../../src/index.js'
import { TokenRelayError, isTokenRelayError } from '../../src/index.js'
import { answeredOnFail, settle } from '../shared/answer.js'
import type { NetworkApi, PlatformTask, TaskTransport } from '../shared/call.js'
import { KIND_OF, callThrough, platformError } from '../shared/call.js'
import type { Callbacks } from '../shared/callbacks.js'
import { deliver, guarded, promisify } from '../shared/callbacks.js'
import type { LifecycleApi } from '../shared/lifecycle.js'
import { browserNetwork } from '../shared/lifecycle.js'
import type { InstallOrigin } from '../shared/registry.js'
import { callSite, installRelay, installedRelay as installedOf } from '../shared/registry.js'
import { platformRelay } from '../shared/relay.js'
import { browserTabs } from '../shared/tabs.js'
import { reporter } from '../shared/report.js'
import { createAbort } from '../shared/signal.js'
import type { InstalledRelay, PlatformOptions } from '../shared/types.js'

export type { InstalledRelay, PlatformOptions } from '../shared/types.js'

type Callback = (value: any) => void
type Task = { abort?(): void }
/** The options object uni hands to `invoke` and then, the same object, to `success`/`fail`/`complete`. */
interface Args {
  url: string
  header?: Record<string, string>
  auth?: boolean
  success?: Callback
  fail?: Callback
  complete?: Callback
  [key: string | symbol]: unknown
}
/** Hooks as the runtime calls them (`@dcloudio/types` says `(result) => void`). `false` silences uni. */
interface Interceptor {
  invoke(args: Args): void
  success(res: RelayResponse, args: Args): false | void
  fail(res: RelayResponse, args: Args): false | void
  complete(res: RelayResponse, args: Args): false | void
  returnValue(value: Task | undefined): Task | void
}
type Nav = (o: { url: string; fail: Callback }) => unknown
type Back = (o: { delta: number; fail: Callback }) => unknown
declare const uni: {
  addInterceptor(api: string, hooks: Interceptor): void
  removeInterceptor(api: string, hooks: Interceptor): void
  request(o: Args): Task
  uploadFile(o: Args): Task
  downloadFile(o: Args): Task
  login(o: { success(r: { code?: string }): void; fail(e: unknown): void }): void
  getStorageSync(key: string): string
  setStorageSync(key: string, value: string): void
  removeStorageSync(key: string): void
  navigateTo: Nav
  redirectTo: Nav
  switchTab: Nav
  navigateBack: Back
}
type AppConfig = { tabBar?: { list?: { pagePath: string }[] } }
declare const __uniConfig: AppConfig | undefined // H5
declare const __wxConfig: AppConfig | undefined // WeChat
declare const location: unknown // H5 only

/** Marks our own replays and refresh calls: they pass our hooks untouched (the token is already on them). */
const REPLAY = Symbol('tokenrelay.replay')
const UNIAPP = 'tokenrelay/uniapp'

/** One intercepted call, from `invoke` to the caller's last callback. */
interface Intercepted {
  api: NetworkApi
  request: RelayRequest
  stamped: Stamped
  control: ReturnType<typeof createAbort>
  /** The caller's own callbacks, captured in `invoke` (H5 deletes them from `args` before the other hooks). */
  callbacks: Callbacks
  /** Decided on the answer (uni calls `success` or `fail`, once): true when tokenrelay took over and reports to the caller itself. */
  mine?: boolean
}

const isAnswer = (res: unknown): res is RelayResponse => !!res && typeof (res as RelayResponse).statusCode === 'number'

/** The relay `install()` made last and has not uninstalled: what the Vue plugin and composables fall back to. */
export const installedRelay = (): InstalledRelay | undefined => installedOf(UNIAPP)

/**
 * Silent token refresh for `uni.request`, `uni.uploadFile` and `uni.downloadFile` through
 * `uni.addInterceptor`: existing calls keep working unchanged, callbacks or promises.
 * Install it before other interceptors of these APIs that return promises: uni skips every hook after one.
 * A second install() replaces the first (with a warning naming both calls); `uninstall()` removes only
 * tokenrelay's hooks, and may be called twice.
 * @example const relay = install({ baseURL: 'https://api.example.com', refresh, loginPage: '/pages/login/index' })
 */
export function install(options: PlatformOptions = {}): InstalledRelay {
  return installUni(options, { site: callSite() })
}

/** @internal install() as the Vue plugins call it: they name the app's `app.use(...)` line themselves. */
export function installUni(options: PlatformOptions, origin: InstallOrigin): InstalledRelay {
  return installRelay(UNIAPP, options, origin, () => {
    const report = reporter(options)
    const calls = new WeakMap<Args, Intercepted>()
    let current: Intercepted | undefined
    /** The call `invoke` just held back (see `held()`), until `returnValue` hands its task to the caller. */
    let holding: (Promise<unknown> & PlatformTask) | undefined

    /** One attempt sent by tokenrelay itself (a held call, a replay, a refresh), reporting uni's task. */
    const send: TaskTransport = ({ kind, auth: _auth, signal, ...params }, onTask) =>
      new Promise((resolve, reject) => {
        const o: Args = {
          ...params,
          [REPLAY]: true,
          success: resolve,
          // An HTTP answer uni reported on `fail` (mp-alipay: any non-2xx) goes back to the caller's `fail`.
          fail: (e) => (isAnswer(e) ? resolve(answeredOnFail(e)) : reject(e)),
        }
        // Static calls only: on H5 the build rewrites `uni.request(...)`, and `uni[name](...)` is undefined there.
        const task = kind === 'upload' ? uni.uploadFile(o) : kind === 'download' ? uni.downloadFile(o) : uni.request(o)
        if (task && typeof task.abort === 'function') onTask(task as PlatformTask)
        if (signal) signal.addEventListener('abort', () => task?.abort?.())
      })
    const transport: Transport = (request) => send(request, () => {})
    const { relay, returnAfterLogin, onReturnAfterLogin, close } = platformRelay(options, {
      storage: {
        get: (key) => uni.getStorageSync(key),
        set: (key, value) => uni.setStorageSync(key, value),
        remove: (key) => uni.removeStorageSync(key),
      },
      transport,
      // mp-alipay maps uni.login to my.getAuthCode and renames authCode to code. uni-h5 has no login: its
      // uni.login fails "not supported", which the shared code login turns into the end of the session.
      // mp-toutiao passes `force` to tt.login, whose default (true) would open the host's login popup; others ignore it.
      getCode: () => promisify<{ code?: string }>((o) => uni.login({ ...o, force: false } as typeof o)).then((r) => r && r.code),
      // Static calls (H5). With the `fail` the navigator passes uni returns no promise, so a failed navigation
      // is reported, never an unhandled rejection. getCurrentPages is left to the navigator (the global).
      nav: () => ({
        navigateTo: (o) => uni.navigateTo(o),
        redirectTo: (o) => uni.redirectTo(o),
        switchTab: (o) => uni.switchTab(o),
        navigateBack: (o) => uni.navigateBack(o),
      }),
      // H5: the page's origin completes a relative URL (mini programs have no `location`).
      resolvesRelative: () => typeof location !== 'undefined',
      tabs: browserTabs,
      // uni.onAppShow, uni.getNetworkType, uni.onNetworkStatusChange pass through to the mini program's own.
      lifecycle: typeof location !== 'undefined' ? browserNetwork() : (uni as unknown as LifecycleApi),
      tabBar: () => {
        const config: AppConfig =
          (typeof __uniConfig !== 'undefined' && __uniConfig) || (typeof __wxConfig !== 'undefined' && __wxConfig) || {}
        return (config.tabBar?.list || []).map((i) => i.pagePath)
      },
    })

    /**
     * The `success`/`fail` hook: an expired (or aborted) call is taken over. The hook returns
     * `false` synchronously, so uni reports nothing and runs no later hook, and tokenrelay delivers the
     * final result to the callbacks captured in `invoke`. (Returning a promise instead makes `complete`
     * fire before `success`, and any hook added after ours then hands the caller a function: see
     * uniapp.test.ts.)
     */
    const answered =
      (viaFail: boolean) =>
      (res: RelayResponse, args: Args): false | void => {
        const call = calls.get(args)
        if (!call) return
        const aborted = call.control.signal.aborted
        // auth: false and other hosts need no check here: relay.receive() hands their first answer straight back.
        // A recognised login's answer is taken over too: its credentials are adopted before the caller hears of it.
        call.mine = aborted || (isAnswer(res) && (!!call.stamped.adopt || relay.isExpired(res, call.stamped.request)))
        if (!call.mine) return
        if (viaFail) answeredOnFail(res)
        const done = aborted
          ? Promise.reject(new TokenRelayError('ABORTED', 'request aborted'))
          : relay.receive(call.request, transport, { ...call.stamped, response: res })
        done.then(
          (response) => {
            const { ok, value } = settle(response)
            deliver(call.callbacks, ok, value, report)
          },
          (error) => deliver(call.callbacks, false, isTokenRelayError(error) ? platformError(call.api, error) : error, report),
        )
        return false
      }

    // A request the relay would hold back (storage not read, a login or refresh running or due) is held here
    // too, as on wx and Taro: sent anyway, it would go out without a token (or with the dead one).
    const held = (request: RelayRequest) => relay.wouldWait(request)

    const hooksFor = (api: NetworkApi): Interceptor => ({
      // Synchronous on purpose: a promise from invoke makes uni skip every later invoke hook (it hands them a
      // function as the options), leaves callers pending when it rejects, and turns the task into a promise.
      invoke(args) {
        if (args[REPLAY]) return
        // Captured here: H5 deletes the callbacks from `args` before the other hooks run.
        const { success, fail, complete, ...rest } = args
        const callbacks = { success, fail, complete }
        if (held(rest)) {
          // `false`: uni sends nothing and calls no callback. tokenrelay sends the call itself once the login or
          // refresh is over (through uni again, so later interceptors see it) and answers the callbacks.
          holding = callThrough(relay, api, { ...rest, header: { ...args.header }, ...callbacks }, send, report)
          return false
        }
        // When uni answers the caller itself (nothing to take over), a throwing callback is reported the
        // same way as when tokenrelay does: it skips no other callback.
        Object.assign(args, guarded(callbacks, report))
        const control = createAbort()
        // A copy: a replay must send the headers of the call, not what the caller's object holds by then.
        const request: RelayRequest = { ...rest, header: { ...args.header }, kind: KIND_OF[api], signal: control.signal }
        const stamped = relay.stamp(request)
        // Mutated in place: the return value of a synchronous invoke is ignored.
        args.url = stamped.request.url
        args.header = stamped.request.header
        calls.set(args, (current = { api, request, stamped, control, callbacks }))
      },
      success: answered(false),
      fail: answered(true),
      complete(_res, args) {
        if (calls.get(args)?.mine) return false
      },
      // Runs right after `invoke`, synchronously, with what the caller gets: the task (callbacks) or a promise.
      returnValue(value) {
        const call = current
        const task = holding
        current = holding = undefined
        if (task) {
          // A held call: uni returns nothing to callback callers, who get tokenrelay's task instead (abort and
          // progress listeners reach each attempt); a promise caller's promise gets its abort().
          if (!value) return task
          value.abort = task.abort
          return
        }
        if (!call || !value) return
        const abort = value.abort
        // A task's abort() cannot reach a call waiting for the refresh or a replay: ours does. On a promise
        // (uni gives promise callers no task) it discards the answer and rejects with ABORTED.
        value.abort = () => {
          call.control.abort()
          abort?.call(value)
        }
      },
    })

    const hooks = (Object.keys(KIND_OF) as NetworkApi[]).map((api) => [api, hooksFor(api)] as const)
    for (const [api, h] of hooks) uni.addInterceptor(api, h)
    return {
      relay,
      returnAfterLogin,
      onReturnAfterLogin,
      teardown() {
        close()
        hooks.forEach(([api, h]) => uni.removeInterceptor(api, h))
      },
    }
  })
}

declare global {
  // `auth: false` on uni's own option types (@dcloudio/types), no casts needed.
  namespace UniNamespace {
    interface RequestOptions {
      /** `false`: tokenrelay attaches no token and never refreshes for this request. */
      auth?: boolean
    }
    interface UploadFileOption {
      auth?: boolean
    }
    interface DownloadFileOption {
      auth?: boolean
    }
  }
}
