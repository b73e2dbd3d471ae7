/**
 * The globals the program sees: `wx` or `my`, assembled from the network, storage, navigation and file
 * modules plus the platform's login code (`wx.login` → `{code}`, `my.getAuthCode` → `{authCode}`), app
 * lifecycle listeners, UI calls that just succeed and system-info stubs; and `App`, `Page`, `Component`,
 * `getApp`, `getCurrentPages`. Members the program reads that the simulation lacks are recorded
 * (`app.missingApis`) so a test notices when a framework starts to depend on one.
 */
import { MY_USER_DATA, TT_USER_DATA, WX_USER_DATA, type FileSystem } from './files'
import type { Loader } from './loader'
import { navigationApi } from './navigation'
import type { Network } from './network'
import { selectorQueryStub, type Pages } from './pages'
import type { Outcome, Sandbox } from './sandbox'
import { storageApi } from './storage'
import type { MiniPlatform, NavigationRecord } from './types'

/** Tells this process's codes apart from another's: a reference server accepts each code once. */
const PROCESS_TAG = `${process.pid.toString(36)}${Date.now().toString(36)}`
let codeSeq = 0

/** Members frameworks probe on `wx`/`my` that are not platform APIs (kept out of `missingApis`). */
const NOT_APIS = new Set(['webpackJsonp', 'taroEventCenter', 'cloud', 'specialMethods'])

export interface ProgramParts {
  sb: Sandbox
  loader: Loader
  pages: Pages
  network: Network
  files: FileSystem
  storage: Map<string, unknown>
  navigations: NavigationRecord[]
}

export interface InstalledGlobals {
  /** Codes handed out by wx.login / my.getAuthCode / tt.login, in order. */
  loginCodes: string[]
  /** tt.login's `force` option, one entry per call (Douyin: undefined means true, the host's login popup). */
  loginForce: unknown[]
  /** `wx.foo` / `my.foo` members the program read that the simulation lacks. */
  missing: Set<string>
}

export function installPlatformGlobals(parts: ProgramParts): InstalledGlobals {
  const { sb, loader, pages } = parts
  const g = sb.global
  const installed: InstalledGlobals = { loginCodes: [], loginForce: [], missing: new Set() }
  const api = sb.platform === 'my' ? buildMy(parts, installed) : buildWx(parts, installed)
  g[sb.platform] = new Proxy(api, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && !(prop in target) && !sb.closed && !NOT_APIS.has(prop) && !/^[$_]/.test(prop)) {
        installed.missing.add(`${sb.platform}.${prop}`)
      }
      return Reflect.get(target, prop, receiver)
    },
  })
  g.App = (options: Record<string, any>) => loader.registerApp(options)
  g.Page = (options: Record<string, any>) => loader.define('page', options)
  g.Component = (options: Record<string, any>) => loader.define('component', options)
  g.Behavior = (options: Record<string, any>) => options
  g.getApp = () => loader.appInstance
  g.getCurrentPages = () => sb.realm.Array.from(pages.stack)
  g.requirePlugin = (name: string) => {
    throw new Error(`requirePlugin(${name}): plugins are not simulated`)
  }
  // WeChat has a `global` object (uni-app's vendor code registers createApp on it).
  if (sb.platform !== 'my') g.global = g
  // Taro's Alipay runtime reads navigator; Alipay's JS engine has one.
  if (sb.platform === 'my') g.navigator = { userAgent: 'AlipayClient/10.5.0 tokenrelay-e2e' }
  if (sb.opts.apiBase) g.__TOKENRELAY_API__ = sb.opts.apiBase
  for (const [k, v] of Object.entries(sb.opts.globals || {})) g[k] = v
  return installed
}

/** `code-<user>-<n>-<process>`: unique per process (a reference server accepts each code once). */
function nextCode(sb: Sandbox, installed: InstalledGlobals): string {
  codeSeq += 1
  const code = `code-${sb.opts.user || 'alice'}-${codeSeq}-${PROCESS_TAG}`
  installed.loginCodes.push(code)
  return code
}

/**
 * Douyin's tt.login: `code` for a user logged in to the host app (the simulated user is), `anonymousCode`
 * always, `isLogin`. Records `force` so a test can see whether the program asked for the host's popup.
 */
function ttLogin(sb: Sandbox, installed: InstalledGlobals) {
  return sb.asyncApi('login', (o) => {
    installed.loginForce.push(o && o.force)
    const res = { code: nextCode(sb, installed), anonymousCode: `anon-${PROCESS_TAG}`, isLogin: true, errMsg: 'login:ok' }
    return later({ ok: true, res: sb.toRealm(res) })
  })
}

/** Resolves on a later turn, as the platform answers. */
const later = (v: Outcome) => new Promise<Outcome>((r) => setImmediate(() => r(v)))

function buildWx(parts: ProgramParts, installed: InstalledGlobals): Record<string, any> {
  const { sb, loader, pages, network, files } = parts
  const ok = (name: string, extra: Record<string, unknown> = {}) => ({ ...extra, errMsg: `${name}:ok` })
  return {
    env: { USER_DATA_PATH: sb.platform === 'tt' ? TT_USER_DATA : WX_USER_DATA },
    request: (o: Record<string, any>) => network.request(o),
    uploadFile: (o: Record<string, any>) => network.uploadFile(o),
    downloadFile: (o: Record<string, any>) => network.downloadFile(o),
    login:
      sb.platform === 'tt'
        ? ttLogin(sb, installed)
        : sb.asyncApi('login', () => later({ ok: true, res: sb.toRealm(ok('login', { code: nextCode(sb, installed) })) })),
    checkSession: sb.asyncApi('checkSession', () => later({ ok: true, res: sb.toRealm(ok('checkSession')) })),
    ...storageApi(sb, parts.storage),
    ...navigationApi(sb, pages, parts.navigations),
    ...systemApi(sb),
    getFileSystemManager: () => files.manager(),
    canIUse: () => true,
    // Douyin only: Taro's tt runtime asks which renderer runs the page (1: the webview one).
    // uni-mp-toutiao reads tt.pay at load time to map uni.requestPayment; payments are not simulated.
    ...(sb.platform === 'tt'
      ? {
          getRenderMode: () => 1,
          pay: sb.asyncApi('pay', () => later({ ok: false, res: sb.toRealm({ errMsg: 'pay:fail not simulated' }) })),
        }
      : {}),
    nextTick: (fn: () => void) => Promise.resolve().then(() => sb.guard(fn)),
    onAppShow: (cb: (o: unknown) => void) => {
      loader.appShowListeners.push(cb)
    },
    offAppShow: () => {},
    onAppHide: () => {},
    offAppHide: () => {},
    onError: (cb: (msg: string) => void) => {
      sb.errorListeners.push(cb)
    },
    offError: () => {},
    onUnhandledRejection: () => {},
    onPageNotFound: () => {},
    onMemoryWarning: () => {},
    getLaunchOptionsSync: () => sb.toRealm(pages.launchOptions()),
    getEnterOptionsSync: () => sb.toRealm(pages.launchOptions()),
    showToast: sb.asyncApi('showToast', () => later({ ok: true, res: ok('showToast') })),
    hideToast: sb.asyncApi('hideToast', () => later({ ok: true, res: ok('hideToast') })),
    showLoading: sb.asyncApi('showLoading', () => later({ ok: true, res: ok('showLoading') })),
    hideLoading: sb.asyncApi('hideLoading', () => later({ ok: true, res: ok('hideLoading') })),
    showModal: sb.asyncApi('showModal', () => later({ ok: true, res: ok('showModal', { confirm: true, cancel: false }) })),
    setNavigationBarTitle: sb.asyncApi('setNavigationBarTitle', () => later({ ok: true, res: ok('setNavigationBarTitle') })),
    stopPullDownRefresh: sb.asyncApi('stopPullDownRefresh', () => later({ ok: true, res: ok('stopPullDownRefresh') })),
    reportAnalytics: () => {},
    createSelectorQuery: () => selectorQueryStub(),
    createIntersectionObserver: () => ({ relativeToViewport: () => ({ observe: () => {} }), observe: () => {}, disconnect: () => {} }),
    getNetworkType: sb.asyncApi('getNetworkType', () => later({ ok: true, res: ok('getNetworkType', { networkType: 'wifi' }) })),
    onNetworkStatusChange: () => {},
    getAccountInfoSync: () => sb.toRealm({ miniProgram: { appId: 'touristappid', envVersion: 'develop', version: '' } }),
  }
}

function buildMy(parts: ProgramParts, installed: InstalledGlobals): Record<string, any> {
  const { sb, loader, pages, network, files } = parts
  return {
    env: { USER_DATA_PATH: MY_USER_DATA },
    request: (o: Record<string, any>) => network.request(o),
    httpRequest: (o: Record<string, any>) => network.request(o),
    uploadFile: (o: Record<string, any>) => network.uploadFile(o),
    downloadFile: (o: Record<string, any>) => network.downloadFile(o),
    getAuthCode: sb.asyncApi('getAuthCode', () =>
      later({ ok: true, res: sb.toRealm({ authCode: nextCode(sb, installed), authErrorScopes: {}, authSuccessScopes: ['auth_base'] }) }),
    ),
    ...storageApi(sb, parts.storage),
    ...navigationApi(sb, pages, parts.navigations),
    ...systemApi(sb),
    getFileSystemManager: () => files.manager(),
    canIUse: (what: string) => typeof what === 'string' && !/^(saveFileToDingTalk|isIDE|dd)\b/.test(what),
    onAppShow: (cb: (o: unknown) => void) => {
      loader.appShowListeners.push(cb)
    },
    offAppShow: () => {},
    onAppHide: () => {},
    offAppHide: () => {},
    onError: (cb: (msg: string) => void) => {
      sb.errorListeners.push(cb)
    },
    offError: () => {},
    onUnhandledRejection: () => {},
    getLaunchOptionsSync: () => sb.toRealm(pages.launchOptions()),
    getEnterOptionsSync: () => sb.toRealm(pages.launchOptions()),
    showToast: sb.asyncApi('showToast', () => later({ ok: true, res: { success: true } })),
    hideToast: sb.asyncApi('hideToast', () => later({ ok: true, res: { success: true } })),
    showLoading: sb.asyncApi('showLoading', () => later({ ok: true, res: { success: true } })),
    hideLoading: sb.asyncApi('hideLoading', () => later({ ok: true, res: { success: true } })),
    alert: sb.asyncApi('alert', () => later({ ok: true, res: { success: true } })),
    confirm: sb.asyncApi('confirm', () => later({ ok: true, res: { confirm: true } })),
    setNavigationBar: sb.asyncApi('setNavigationBar', () => later({ ok: true, res: { success: true } })),
    stopPullDownRefresh: sb.asyncApi('stopPullDownRefresh', () => later({ ok: true, res: { success: true } })),
    createSelectorQuery: () => selectorQueryStub(),
    getNetworkType: sb.asyncApi('getNetworkType', () => later({ ok: true, res: { networkType: 'WIFI', networkAvailable: true } })),
    onNetworkStatusChange: () => {},
    reportAnalytics: () => {},
  }
}

/** Device and window info: a 375×812 phone, so layout code that reads it gets plausible numbers. */
function systemApi(sb: Sandbox): Record<string, any> {
  const p: MiniPlatform = sb.platform
  const info = {
    brand: 'devtools',
    model: 'tokenrelay-e2e',
    pixelRatio: 2,
    screenWidth: 375,
    screenHeight: 812,
    windowWidth: 375,
    windowHeight: 812,
    statusBarHeight: 44,
    language: 'zh_CN',
    version: p === 'wx' ? '8.0.50' : '10.5.0',
    system: 'iOS 17.0',
    platform: p === 'wx' ? 'devtools' : 'iOS',
    SDKVersion: p === 'wx' ? '3.5.0' : '2.9.0',
    safeArea: { left: 0, right: 375, top: 44, bottom: 812, width: 375, height: 768 },
    app: p === 'my' ? 'alipay' : undefined,
    appName: p === 'tt' ? 'Douyin' : undefined,
  }
  const sys = () => sb.toRealm(info)
  return {
    getSystemInfoSync: sys,
    getSystemInfo: sb.asyncApi('getSystemInfo', async () => ({ ok: true, res: sys() })),
    getWindowInfo: sys,
    getDeviceInfo: sys,
    getAppBaseInfo: sys,
    getSystemSetting: () => sb.toRealm({ bluetoothEnabled: false, locationEnabled: false, wifiEnabled: true }),
    getAppAuthorizeSetting: () => sb.toRealm({}),
    getMenuButtonBoundingClientRect: () => sb.toRealm({ width: 87, height: 32, top: 48, right: 365, bottom: 80, left: 278 }),
  }
}
