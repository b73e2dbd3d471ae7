// Named imports: on H5 the default export lacks addInterceptor for code under node_modules, and
// `import * as` fails there at run time. The default import is used only as the object whose
// uploadFile/downloadFile app code calls (`Taro.uploadFile(...)`), which is what gets replaced.
import Taro, {
  addInterceptor,
  downloadFile as taroDownloadFile,
  getApp,
  getCurrentPages,
  getEnv,
  getStorageSync,
  login,
  navigateBack,
  navigateTo,
  redirectTo,
  removeStorageSync,
  request,
  setStorageSync,
  switchTab,
  uploadFile as taroUploadFile,
} from '@tarojs/taro'
import type { TokenStorage } from '../../src/index.js'
import type { TaskTransport } from '../shared/call.js'
import { callThrough } from '../shared/call.js'
import type { LifecycleApi } from '../shared/lifecycle.js'
import { browserNetwork } from '../shared/lifecycle.js'
import { replace } from '../shared/patch.js'
import { asPlugin, callSite, installRelay, installed, installedRelay as installedOf } from '../shared/registry.js'
import { platformRelay } from '../shared/relay.js'
import { browserTabs } from '../shared/tabs.js'
import { reporter } from '../shared/report.js'
import type { InstalledRelay, PlatformOptions } from '../shared/types.js'
import type { FileApi, Params, TaroPromise } from './task.js'
import { TARO, asAnswer, attemptParams, chainTask, fileCall, isRelayed } from './task.js'

export type { InstalledRelay, PlatformOptions, ReturnAfterLogin } from '../shared/types.js'
/** The relay install() installed and has not uninstalled (the CLI plugin's runtime calls install()). */
export const installedRelay = (): InstalledRelay | undefined => installedOf(TARO)

/**
 * @internal What the runtime `tokenrelay/taro/plugin` generates calls: `install` runs as the plugin's, so
 * that a manual install() in app code is reported as replacing it (and its options, `loginPage`…).
 */
export const pluginInstall = (config: string, install: () => InstalledRelay): InstalledRelay =>
  asPlugin({ by: 'tokenrelay/taro/plugin', config }, install)

interface Chain {
  requestParams: Params
  proceed(params: Params): TaroPromise
}

declare const __wxConfig: { tabBar?: { list?: { pagePath: string }[] } } | undefined

/** Marks the relay's own refresh/login calls so our interceptor lets them through untouched. */
const BYPASS = '__tokenrelayBypass'

/**
 * tabBar pages (for switchTab): `getApp().config` is app.config.ts on Taro's React runtime, on every
 * platform; WeChat's `__wxConfig` is the fallback. `options.tabBar` overrides both.
 */
function tabBar(): string[] {
  let app: Params | undefined
  try {
    app = getApp() as Params
  } catch {
    // No app yet (or H5 without one): fall back.
  }
  const list = app?.config?.tabBar?.list || (typeof __wxConfig !== 'undefined' && __wxConfig?.tabBar?.list) || []
  return (list as { pagePath: string }[]).map((i) => i.pagePath)
}

/** The Taro functions install() replaced on the Taro object: what `uploadFile()`/`downloadFile()` send each attempt with. */
let originals: Partial<Record<FileApi, (o: Params) => TaroPromise>> = {}

function fileApi(api: FileApi, imported: () => (o: Params) => TaroPromise) {
  return (options: Params): TaroPromise => {
    const current = installed(TARO)
    const original = originals[api] || imported()
    // Not installed, or already the plugin's H5 wrapper (which relays by itself): as Taro's own.
    if (!current || isRelayed(original)) return original(options)
    return fileCall(current.relay, api, original, options, current.report)
  }
}

/**
 * `Taro.uploadFile` through the relay on every target, with or without tokenrelay/taro/plugin: call it where
 * `Taro.uploadFile(...)` would not be covered (an H5 build without the plugin compiles those calls into
 * imports that install() cannot reach). Before install() (and after uninstall()) it is Taro's own.
 * @example import { uploadFile } from 'tokenrelay/taro'; await uploadFile({ url: '/avatar', filePath, name: 'file' })
 */
export const uploadFile: typeof taroUploadFile = /* @__PURE__ */ fileApi('uploadFile', () => taroUploadFile as never) as never

/**
 * `Taro.downloadFile` through the relay on every target, with or without tokenrelay/taro/plugin (see `uploadFile`).
 * @example import { downloadFile } from 'tokenrelay/taro'; const { tempFilePath } = await downloadFile({ url: '/report.pdf' })
 */
export const downloadFile: typeof taroDownloadFile = /* @__PURE__ */ fileApi('downloadFile', () => taroDownloadFile as never) as never

/** True on Taro's H5 target (`getEnv()` is 'WEB' there); false where Taro cannot tell. */
function isH5(): boolean {
  try {
    return getEnv() === 'WEB'
  } catch {
    return false
  }
}

/**
 * Routes `Taro.request` (one interceptor), `Taro.uploadFile` and `Taro.downloadFile` (replaced on the
 * Taro object: the interceptor chain never sees them) through one relay. Call it before any other
 * `addInterceptor`, so ours is the outermost and later interceptors run once per attempt.
 * `Taro.cleanInterceptors()` removes the interceptor: uninstall() and install() again after it. A
 * second install() replaces the first (with a warning naming both calls, or the CLI plugin when it made
 * the first); `uninstall()` may be called twice. Refresh and login calls go through the chain too (so
 * the app's interceptors apply) with a private mark: an interceptor added before install() must pass
 * unknown params along.
 * On H5 the build rewrites `Taro.uploadFile`/`Taro.downloadFile` in app code into imports from Taro's H5
 * API module, which no patch reaches: `tokenrelay/taro/plugin` covers them by aliasing that module. Without
 * the plugin, install() says so once (on H5), and `uploadFile`/`downloadFile` from this module work anyway.
 * @example const relay = install({ baseURL: 'https://api.example.com', refresh, exchange, loginPage: '/pages/login/index' })
 */
export function install(options: PlatformOptions = {}): InstalledRelay {
  return installRelay(TARO, options, { site: callSite() }, () => {
    const report = reporter(options)
    const storage: TokenStorage = {
      get: (key) => getStorageSync(key),
      set: (key, value) => setStorageSync(key, value),
      remove: (key) => removeStorageSync(key),
    }
    const { relay, returnAfterLogin, onReturnAfterLogin, close } = platformRelay(options, {
      storage,
      // refresh/login: through the chain (the app's other interceptors apply) but not through the relay.
      transport: (req) => asAnswer(request({ ...attemptParams(req), [BYPASS]: true } as never)),
      // Douyin's tt.login opens the host app's login popup unless `force` is false (a background re-login must
      // not); Taro passes the option through on tt, and wx / Alipay ignore it.
      getCode: () => login({ force: false } as Parameters<typeof login>[0]).then((r) => r && r.code),
      // Taro's navigation promises reject when navigation fails: the shared navigator reports it (no unhandled rejection).
      nav: () => ({
        navigateTo,
        redirectTo,
        switchTab,
        navigateBack,
        getCurrentPages: () => getCurrentPages() as { route?: string; options?: Record<string, string> }[],
      }),
      tabBar,
      resolvesRelative: isH5,
      tabs: browserTabs,
      // Taro.onAppShow, Taro.getNetworkType, Taro.onNetworkStatusChange: the mini program's own, on the Taro object.
      lifecycle: isH5() ? browserNetwork() : (Taro as LifecycleApi),
    })

    let active = true
    addInterceptor((chain: Chain) => {
      // Taro has no removeInterceptor: once uninstalled this stays in the chain as a pass-through
      // (forwarding the bypass mark untouched, for the installed relay's interceptor further in).
      if (!active) return chain.proceed(chain.requestParams)
      const { [BYPASS]: bypass, ...params } = chain.requestParams
      if (bypass) return chain.proceed(params)
      // The caller's own `signal` (H5): the relay's replaces it in the request, each attempt gets it back.
      const { signal } = params
      const send: TaskTransport = (req, onTask) => asAnswer(chain.proceed(attemptParams(req, signal)), req.signal, onTask)
      // A snapshot taken before the first proceed: Taro's request functions mutate what they are given
      // (Alipay deletes `header` and swaps the callbacks, H5 adds Content-Type), and the callbacks must see
      // the final answer only, so they stay out of every attempt.
      const task = callThrough(relay, 'request', { ...params, header: { ...params.header } } as never, send, report)
      // void: Taro's abort() returns the (rejecting) promise, and Node's EventTarget reports a returned rejection.
      if (signal && typeof signal.addEventListener === 'function') signal.addEventListener('abort', () => void task.abort())
      return chainTask(task, !!(params.success || params.fail || params.complete))
    })

    if (isH5() && !isRelayed(taroUploadFile)) {
      report(
        "[tokenrelay] tokenrelay/taro on H5 without tokenrelay/taro/plugin: Taro.uploadFile()/downloadFile() go out without the token (the build makes them imports install() cannot reach). Add the plugin, or call uploadFile/downloadFile from 'tokenrelay/taro'.",
      )
    }

    // What uninstall() puts back: only what was actually replaced.
    const replaced: Params = {}
    for (const api of ['uploadFile', 'downloadFile'] as const) {
      const original: (o: Params) => TaroPromise = (Taro as Params)[api]
      if (typeof original !== 'function') continue // not on this default export (H5 rewrites these calls anyway)
      if (replace(Taro, api, (o: Params) => fileCall(relay, api, original, o, report))) replaced[api] = original
      else report(`[tokenrelay] Taro.${api} is read-only: its calls are not refreshed`)
    }
    originals = replaced

    return {
      relay,
      returnAfterLogin,
      onReturnAfterLogin,
      teardown() {
        active = false
        close()
        for (const api in replaced) replace(Taro, api, replaced[api])
        originals = {}
      },
    }
  })
}

declare module '@tarojs/taro' {
  // `auth: false` on Taro's own option types, no casts needed.
  namespace request {
    // The type parameters must match Taro's own declaration to merge with it.
    // eslint-disable-next-line @typescript-eslint/no-unused-vars
    interface Option<T, U> {
      /** `false`: tokenrelay attaches no token and never refreshes for this request. */
      auth?: boolean
    }
  }
  namespace uploadFile {
    interface Option {
      auth?: boolean
    }
  }
  namespace downloadFile {
    interface Option {
      auth?: boolean
    }
  }
}
