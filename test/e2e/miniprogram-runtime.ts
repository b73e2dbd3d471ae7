/**
 * Runs a COMPILED mini program (Taro `dist/weapp|alipay`, uni-app `dist/build/mp-weixin|mp-alipay`,
 * or hand-written native code) under plain Node, with simulated `wx` / `my` globals whose network
 * calls are real HTTP.
 *
 *   const app = await loadMiniProgram({ dir, platform: 'wx', apiBase: 'http://127.0.0.1:4321' })
 *   await app.tap('home', 'run-all')            // tap the element with id="run-all" on page home
 *   await app.waitForText('home', /results 12\/12/)
 *   app.texts('home')                            // every string the page has rendered (setData)
 *   app.pageData('home')                         // the page's data as the view would see it
 *   app.navigations                              // [{ api: 'navigateTo', url: '/pages/login/index', ok: true }]
 *   app.http                                     // every HTTP exchange: kind, method, url, headers, status
 *   await app.close()
 *
 * Design
 * - One `vm` context per load: the program's globals (`wx`, `App`, `Page`, webpack's `wx.webpackJsonp`)
 *   live in that context only, built-ins (Object, Array, Promise, JSON) are the context's own, and
 *   `require` is a small CommonJS loader confined to `dir` (no Node built-ins: like the real runtime).
 *   `close()` clears every timer, aborts every request and drops the context.
 * - Lifecycle like the platform: App `onLaunch` → `onShow`, then the entry page `onLoad(query)` →
 *   `onShow` → `onReady`. Pages made with `Page()` (Taro, uni on Alipay) and with `Component()`
 *   (uni on WeChat) are both supported. Child components are not instantiated (no view layer).
 * - `tap(page, id)` dispatches a real tap event: Taro pages through their `eh` event handler (the node
 *   is found in the rendered tree by its id), uni/native pages through the handler bound in the page's
 *   wxml/axml (`bindtap="{{a}}"` → the method named by data `a`). `call(page, method)` is the escape hatch.
 * - Network: `request`, `uploadFile`, `downloadFile` are node:http calls sharing one in-flight limit
 *   (default 10, extra calls queue). Platform behaviour:
 *   wx: `success` for EVERY status `{data, statusCode, header, cookies, errMsg}`, `fail` only on network
 *       error (`request:fail abort|timeout|...`); the call returns a task (`abort`, `onHeadersReceived`).
 *   my: 2xx → `success {data, status, headers}`; non-2xx → `fail {error: 19, errorMessage, status, data,
 *       headers}`; JSON decode failure on 2xx → `fail {error: 14}`; network 12, timeout 13, abort 9.
 *       Options take `headers` (and `header`); the default body type is a form, not JSON.
 *   uploadFile: success `{data: STRING, statusCode}` for any status (multipart, the file read from the
 *   simulated file system); Alipay requires `fileName` and `fileType`. downloadFile: success
 *   `{tempFilePath, statusCode}` for any status (Alipay also `apFilePath`), body written to a temp dir.
 * - Also: storage (wx positional, my object-style, shared view through `app.storage`), `wx.login`
 *   (→ `{code: 'code-alice-<n>'}`, unique per process), `my.getAuthCode` (→ `{authCode}`), navigation (`navigateTo`, `redirectTo`,
 *   `switchTab`, `reLaunch`, `navigateBack`: performed on a real page stack of at most 10, and logged),
 *   `getCurrentPages`, a file system manager on `USER_DATA_PATH`, system info stubs.
 *   API members the program reads but the simulation lacks are listed in `app.missingApis`.
 * - Errors thrown by program code inside callbacks and timers are caught and kept in `app.errors`
 *   (and `console.error` output in `app.logs`) instead of crashing the test worker.
 */
import * as http from 'node:http'
import * as https from 'node:https'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import * as vm from 'node:vm'
import { randomBytes } from 'node:crypto'

export type MiniPlatform = 'wx' | 'my'

export interface LoadMiniProgramOptions {
  /** Compiled output directory (contains app.js and app.json). */
  dir: string
  platform: MiniPlatform
  /** Sets `globalThis.__TOKENRELAY_API__` in the program (the playgrounds read it before their build-time constant). */
  apiBase?: string
  /** Entry page route or short name (default: the first page in app.json) and its query. */
  entry?: string
  query?: Record<string, string>
  /** Shared limit of request + uploadFile + downloadFile in flight; extra calls wait. Default 10. */
  maxInFlight?: number
  /** Default request timeout in ms when the call gives none. Default 60000 (the platforms' default). */
  timeoutMs?: number
  /** Login codes are `code-<user>-<n>`. Default 'alice'. */
  user?: string
  /** Storage content before launch. */
  storage?: Record<string, unknown>
  /** Make a storage write throw (wx) / fail (my), e.g. to simulate the 10 MB quota. */
  storageWriteFails?: (key: string) => boolean
  /** Alipay: also give `statusCode`/`header` in request results, as newer clients do. Default false. */
  alipayModernFields?: boolean
  /** Extra globals for the program (e.g. a spy). */
  globals?: Record<string, unknown>
  /** Echo the program's console to the test output. Default: env TOKENRELAY_E2E_VERBOSE=1. */
  echoConsole?: boolean
  /** Time allowed for launch (App + entry page onLoad). Default 10000. */
  launchTimeoutMs?: number
}

export interface NavigationRecord {
  api: 'launch' | 'navigateTo' | 'redirectTo' | 'switchTab' | 'reLaunch' | 'navigateBack'
  url: string
  ok: boolean
  errMsg?: string
}

export interface HttpRecord {
  kind: 'request' | 'uploadFile' | 'downloadFile'
  method: string
  url: string
  /** Request headers as sent. */
  headers: Record<string, string>
  /** Response status, or undefined when no response arrived. */
  status?: number
  /** Network-level failure: 'abort' | 'timeout' | an error code. */
  error?: string
  startedAt: number
  endedAt?: number
}

export interface LogRecord {
  level: 'log' | 'info' | 'warn' | 'error' | 'debug'
  text: string
}

export interface PageInstance {
  route: string
  options: Record<string, string>
  data: Record<string, any>
  setData(patch: Record<string, unknown>, cb?: () => void): void
  [key: string]: any
}

export interface MiniProgram {
  readonly platform: MiniPlatform
  readonly dir: string
  /** Routes from app.json. */
  readonly routes: string[]
  /** The program's `getApp()` instance. */
  readonly appInstance: Record<string, any>
  /** Current page stack, bottom first (same objects as the program's getCurrentPages()). */
  pages(): PageInstance[]
  /** The live page instance for a route or short name (`'home'` → `pages/home/index`); topmost match. */
  page(name?: string): PageInstance
  /** Deep copy of the page's data (what setData delivered). */
  pageData(name?: string): Record<string, any>
  /** Every string value in the page's data, in order: rendered text, but also class names etc. */
  texts(name?: string): string[]
  /** Dispatch a tap on the element with this id on the page, then let handlers run. */
  tap(name: string, elementId: string, timeoutMs?: number): Promise<void>
  /** Call a page method directly (lifecycle hooks, handlers), returns its result. */
  call(name: string, method: string, ...args: unknown[]): Promise<unknown>
  /** Poll until `check()` returns a truthy value; rejects after `timeoutMs` (default 10000). */
  waitFor<T>(check: () => T, timeoutMs?: number, what?: string): Promise<NonNullable<T>>
  /** Wait until one of the page's texts matches; resolves with the texts. */
  waitForText(name: string, pattern: RegExp | string, timeoutMs?: number): Promise<string[]>
  /** Wait until no request/upload/download is in flight or queued, and then one more macrotask. */
  idle(timeoutMs?: number): Promise<void>
  readonly navigations: NavigationRecord[]
  readonly http: HttpRecord[]
  /** Highest number of network calls in flight at once. */
  readonly maxInFlightSeen: number
  readonly logs: LogRecord[]
  readonly errors: unknown[]
  /** `wx.foo` / `my.foo` members the program read that the simulation lacks (framework probes excluded). */
  readonly missingApis: string[]
  /** Codes handed out by wx.login / my.getAuthCode, in order. */
  readonly loginCodes: string[]
  /** The simulated storage (values as stored). */
  readonly storage: Map<string, unknown>
  /** Real path of a simulated file path (`wxfile://…`, `https://resource/…`). */
  realPath(virtualPath: string): string
  /** The context's global object, for tests that need to reach in. */
  readonly global: Record<string, any>
  close(): Promise<void>
}

interface PageDefinition {
  kind: 'page' | 'component'
  options: Record<string, any>
}

interface NetTask {
  start(): void
  abort(reason?: string): void
}

const VERBOSE = process.env.TOKENRELAY_E2E_VERBOSE === '1'
const PROCESS_TAG = `${process.pid.toString(36)}${Date.now().toString(36)}`
let codeSeq = 0

/** Members frameworks probe on `wx`/`my` that are not platform APIs (kept out of `missingApis`). */
const NOT_APIS = new Set(['webpackJsonp', 'taroEventCenter', 'cloud', 'specialMethods'])

const WX_USER_DATA = 'wxfile://usr'
const MY_USER_DATA = 'https://usr'

export async function loadMiniProgram(opts: LoadMiniProgramOptions): Promise<MiniProgram> {
  const rt = new Runtime(opts)
  try {
    await rt.launch()
  } catch (err) {
    await rt.close()
    throw err
  }
  return rt.api()
}

class Runtime {
  readonly opts: LoadMiniProgramOptions
  readonly platform: MiniPlatform
  readonly dir: string
  readonly ctx: vm.Context
  readonly realm: { JSON: JSON; Promise: PromiseConstructor; Array: ArrayConstructor; Uint8Array: Uint8ArrayConstructor }
  readonly tmpRoot: string
  readonly appJson: Record<string, any>
  readonly routes: string[]
  readonly tabRoutes: string[]

  readonly navigations: NavigationRecord[] = []
  readonly http: HttpRecord[] = []
  readonly logs: LogRecord[] = []
  readonly errors: unknown[] = []
  readonly missing = new Set<string>()
  readonly storage = new Map<string, unknown>()

  private modules = new Map<string, { exports: any }>()
  private registering: string | null = null
  private definitions = new Map<string, PageDefinition>()
  private appOptions: Record<string, any> | null = null
  private appInst: Record<string, any> = {}
  private stack: PageInstance[] = []
  private webviewId = 0
  private timers = new Map<number, NodeJS.Timeout>()
  private timerSeq = 0
  private active = 0
  private queue: NetTask[] = []
  private live = new Set<NetTask>()
  maxSeen = 0
  readonly loginCodes: string[] = []
  private fileSeq = 0
  private closed = false
  private appShowListeners: Array<(o: unknown) => void> = []

  constructor(opts: LoadMiniProgramOptions) {
    this.opts = opts
    this.platform = opts.platform
    this.dir = path.resolve(opts.dir)
    const appJsonPath = path.join(this.dir, 'app.json')
    if (!fs.existsSync(path.join(this.dir, 'app.js')) || !fs.existsSync(appJsonPath)) {
      throw new Error(`${this.dir} is not a compiled mini program (app.js / app.json missing): build it first`)
    }
    this.appJson = JSON.parse(fs.readFileSync(appJsonPath, 'utf8'))
    this.routes = (this.appJson.pages || []).map((p: string) => p.replace(/^\//, ''))
    this.tabRoutes = ((this.appJson.tabBar && this.appJson.tabBar.list) || []).map((t: any) => String(t.pagePath).replace(/^\//, ''))
    this.tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), `tokenrelay-mp-${this.platform}-`))
    fs.mkdirSync(path.join(this.tmpRoot, 'usr'))
    fs.mkdirSync(path.join(this.tmpRoot, 'tmp'))
    for (const [k, v] of Object.entries(opts.storage || {})) this.storage.set(k, JSON.parse(JSON.stringify(v)))

    this.ctx = vm.createContext({}, { name: `miniprogram:${this.platform}` })
    this.realm = vm.runInContext('({ JSON, Promise, Array, Uint8Array })', this.ctx)
    this.installGlobals()
  }

  // ─── globals ──────────────────────────────────────────────────────────────────────────
  private installGlobals(): void {
    const g = this.ctx as Record<string, any>
    const self = this
    const echo = this.opts.echoConsole ?? VERBOSE
    const consoleProxy: Record<string, (...a: unknown[]) => void> = {}
    for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      consoleProxy[level] = (...args: unknown[]) => {
        const text = args.map((a) => (typeof a === 'string' ? a : safeInspect(a))).join(' ')
        self.logs.push({ level, text })
        if (echo) console[level](`[${self.platform}]`, ...args)
      }
    }
    g.console = consoleProxy
    g.setTimeout = (fn: unknown, ms?: number, ...args: unknown[]) => this.setTimer(fn, ms, args, false)
    g.setInterval = (fn: unknown, ms?: number, ...args: unknown[]) => this.setTimer(fn, ms, args, true)
    g.clearTimeout = g.clearInterval = (id: number) => this.clearTimer(id)

    const api = this.platform === 'wx' ? this.buildWx() : this.buildMy()
    g[this.platform] = new Proxy(api, {
      get(target, prop, receiver) {
        if (typeof prop === 'string' && !(prop in target) && !self.closed && !NOT_APIS.has(prop) && !/^[$_]/.test(prop)) {
          self.missing.add(`${self.platform}.${prop}`)
        }
        return Reflect.get(target, prop, receiver)
      },
    })
    g.App = (options: Record<string, any>) => {
      this.appOptions = options
      // getApp() is the options object itself, like the platform (methods and globalData on it).
      this.appInst = options
    }
    g.Page = (options: Record<string, any>) => this.define('page', options)
    g.Component = (options: Record<string, any>) => this.define('component', options)
    g.Behavior = (options: Record<string, any>) => options
    g.getApp = () => this.appInst
    g.getCurrentPages = () => this.realm.Array.from(this.stack)
    g.requirePlugin = (name: string) => {
      throw new Error(`requirePlugin(${name}): plugins are not simulated`)
    }
    // WeChat has a `global` object (uni-app's vendor code registers createApp on it).
    if (this.platform === 'wx') g.global = g
    // Taro's Alipay runtime reads navigator; Alipay's JS engine has one.
    if (this.platform === 'my') g.navigator = { userAgent: 'AlipayClient/10.5.0 tokenrelay-e2e' }
    if (this.opts.apiBase) g.__TOKENRELAY_API__ = this.opts.apiBase
    for (const [k, v] of Object.entries(this.opts.globals || {})) g[k] = v
  }

  private setTimer(fn: unknown, ms: number | undefined, args: unknown[], repeat: boolean): number {
    if (typeof fn !== 'function') throw new TypeError('setTimeout: callback must be a function')
    const id = ++this.timerSeq
    const run = () => {
      if (!repeat) this.timers.delete(id)
      this.guard(() => fn(...args))
    }
    const t = repeat ? setInterval(run, ms || 0) : setTimeout(run, ms || 0)
    this.timers.set(id, t)
    return id
  }

  private clearTimer(id: number): void {
    const t = this.timers.get(id)
    if (t) {
      clearTimeout(t)
      this.timers.delete(id)
    }
  }

  /** Runs program code; an exception is recorded instead of escaping into the test worker. */
  guard<T>(fn: () => T): T | undefined {
    try {
      return fn()
    } catch (err) {
      this.errors.push(err)
      this.logs.push({ level: 'error', text: `uncaught: ${safeInspect(err)}` })
      if (this.opts.echoConsole ?? VERBOSE) console.error(`[${this.platform}] uncaught`, err)
      for (const cb of this.errorListeners) {
        try { cb(String(err && (err as Error).stack || err)) } catch { /* listener failure is not ours */ }
      }
      return undefined
    }
  }

  private errorListeners: Array<(msg: string) => void> = []

  /** Copies plain data into the program's realm (its own Object/Array prototypes). */
  toRealm<T>(value: T): T {
    if (value === undefined) return value
    return this.realm.JSON.parse(JSON.stringify(value))
  }

  /** Calls a success/fail/complete callback, then complete; returns nothing (platform style). */
  private settle(o: Record<string, any> | undefined, ok: boolean, result: Record<string, any>): void {
    if (!o) return
    const res = result
    if (ok && typeof o.success === 'function') this.guard(() => o.success(res))
    if (!ok && typeof o.fail === 'function') this.guard(() => o.fail(res))
    if (typeof o.complete === 'function') this.guard(() => o.complete(res))
  }

  /** Platform promisification: no callbacks given → a promise (rejecting with the fail object). */
  private asyncApi(name: string, impl: (o: Record<string, any>) => Promise<{ ok: boolean; res: Record<string, any> }>) {
    return (o: Record<string, any> = {}) => {
      const hasCb = o && (o.success || o.fail || o.complete)
      const p = impl(o || {})
      if (hasCb) {
        p.then(({ ok, res }) => this.settle(o, ok, res), (err) => this.guard(() => { throw err }))
        return undefined
      }
      return new this.realm.Promise((resolve, reject) => {
        p.then(({ ok, res }) => (ok ? resolve(res) : reject(res)), (err) => reject(err))
      })
    }
  }

  // ─── wx ───────────────────────────────────────────────────────────────────────────────
  private buildWx(): Record<string, any> {
    const self = this
    const ok = (name: string, extra: Record<string, unknown> = {}) => ({ ...extra, errMsg: `${name}:ok` })
    const later = (v: { ok: boolean; res: Record<string, any> }) => new Promise<typeof v>((r) => setImmediate(() => r(v)))
    const storageApi = this.storageApi('wx')
    const wxApi: Record<string, any> = {
      env: { USER_DATA_PATH: WX_USER_DATA },
      request: (o: Record<string, any>) => this.request('wx', o),
      uploadFile: (o: Record<string, any>) => this.uploadFile('wx', o),
      downloadFile: (o: Record<string, any>) => this.downloadFile('wx', o),
      login: this.asyncApi('login', () => later({ ok: true, res: self.toRealm(ok('login', { code: self.nextCode() })) })),
      checkSession: this.asyncApi('checkSession', () => later({ ok: true, res: self.toRealm(ok('checkSession')) })),
      ...storageApi,
      ...this.navigationApi('wx'),
      ...this.systemApi('wx'),
      getFileSystemManager: () => this.fileSystemManager('wx'),
      canIUse: () => true,
      nextTick: (fn: () => void) => Promise.resolve().then(() => this.guard(fn)),
      onAppShow: (cb: (o: unknown) => void) => { this.appShowListeners.push(cb) },
      offAppShow: () => {},
      onAppHide: () => {},
      offAppHide: () => {},
      onError: (cb: (msg: string) => void) => { this.errorListeners.push(cb) },
      offError: () => {},
      onUnhandledRejection: () => {},
      onPageNotFound: () => {},
      onMemoryWarning: () => {},
      getLaunchOptionsSync: () => this.toRealm(this.launchOptions()),
      getEnterOptionsSync: () => this.toRealm(this.launchOptions()),
      showToast: this.asyncApi('showToast', () => later({ ok: true, res: ok('showToast') })),
      hideToast: this.asyncApi('hideToast', () => later({ ok: true, res: ok('hideToast') })),
      showLoading: this.asyncApi('showLoading', () => later({ ok: true, res: ok('showLoading') })),
      hideLoading: this.asyncApi('hideLoading', () => later({ ok: true, res: ok('hideLoading') })),
      showModal: this.asyncApi('showModal', () => later({ ok: true, res: ok('showModal', { confirm: true, cancel: false }) })),
      setNavigationBarTitle: this.asyncApi('setNavigationBarTitle', () => later({ ok: true, res: ok('setNavigationBarTitle') })),
      stopPullDownRefresh: this.asyncApi('stopPullDownRefresh', () => later({ ok: true, res: ok('stopPullDownRefresh') })),
      reportAnalytics: () => {},
      createSelectorQuery: () => selectorQueryStub(),
      createIntersectionObserver: () => ({ relativeToViewport: () => ({ observe: () => {} }), observe: () => {}, disconnect: () => {} }),
      getNetworkType: this.asyncApi('getNetworkType', () => later({ ok: true, res: ok('getNetworkType', { networkType: 'wifi' }) })),
      onNetworkStatusChange: () => {},
      getAccountInfoSync: () => this.toRealm({ miniProgram: { appId: 'touristappid', envVersion: 'develop', version: '' } }),
    }
    return wxApi
  }

  // ─── my ───────────────────────────────────────────────────────────────────────────────
  private buildMy(): Record<string, any> {
    const self = this
    const later = (v: { ok: boolean; res: Record<string, any> }) => new Promise<typeof v>((r) => setImmediate(() => r(v)))
    const myApi: Record<string, any> = {
      env: { USER_DATA_PATH: MY_USER_DATA },
      request: (o: Record<string, any>) => this.request('my', o),
      httpRequest: (o: Record<string, any>) => this.request('my', o),
      uploadFile: (o: Record<string, any>) => this.uploadFile('my', o),
      downloadFile: (o: Record<string, any>) => this.downloadFile('my', o),
      getAuthCode: this.asyncApi('getAuthCode', () => later({ ok: true, res: self.toRealm({ authCode: self.nextCode(), authErrorScopes: {}, authSuccessScopes: ['auth_base'] }) })),
      ...this.storageApi('my'),
      ...this.navigationApi('my'),
      ...this.systemApi('my'),
      getFileSystemManager: () => this.fileSystemManager('my'),
      canIUse: (what: string) => typeof what === 'string' && !/^(saveFileToDingTalk|isIDE|dd)\b/.test(what),
      onAppShow: (cb: (o: unknown) => void) => { this.appShowListeners.push(cb) },
      offAppShow: () => {},
      onAppHide: () => {},
      offAppHide: () => {},
      onError: (cb: (msg: string) => void) => { this.errorListeners.push(cb) },
      offError: () => {},
      onUnhandledRejection: () => {},
      getLaunchOptionsSync: () => this.toRealm(this.launchOptions()),
      getEnterOptionsSync: () => this.toRealm(this.launchOptions()),
      showToast: this.asyncApi('showToast', () => later({ ok: true, res: { success: true } })),
      hideToast: this.asyncApi('hideToast', () => later({ ok: true, res: { success: true } })),
      showLoading: this.asyncApi('showLoading', () => later({ ok: true, res: { success: true } })),
      hideLoading: this.asyncApi('hideLoading', () => later({ ok: true, res: { success: true } })),
      alert: this.asyncApi('alert', () => later({ ok: true, res: { success: true } })),
      confirm: this.asyncApi('confirm', () => later({ ok: true, res: { confirm: true } })),
      setNavigationBar: this.asyncApi('setNavigationBar', () => later({ ok: true, res: { success: true } })),
      stopPullDownRefresh: this.asyncApi('stopPullDownRefresh', () => later({ ok: true, res: { success: true } })),
      createSelectorQuery: () => selectorQueryStub(),
      getNetworkType: this.asyncApi('getNetworkType', () => later({ ok: true, res: { networkType: 'WIFI', networkAvailable: true } })),
      onNetworkStatusChange: () => {},
      reportAnalytics: () => {},
      getEventChannel: undefined,
    }
    delete myApi.getEventChannel
    return myApi
  }

  /** `code-<user>-<n>`: unique per process (a reference server accepts each code once). */
  private nextCode(): string {
    codeSeq += 1
    const code = `code-${this.opts.user || 'alice'}-${codeSeq}-${PROCESS_TAG}`
    this.loginCodes.push(code)
    return code
  }

  private launchOptions(): Record<string, unknown> {
    const entry = this.entryRoute()
    return { path: entry, query: this.opts.query || {}, scene: 1001, referrerInfo: {} }
  }

  private systemApi(p: MiniPlatform): Record<string, any> {
    const info = {
      brand: 'devtools', model: 'tokenrelay-e2e', pixelRatio: 2, screenWidth: 375, screenHeight: 812,
      windowWidth: 375, windowHeight: 812, statusBarHeight: 44, language: 'zh_CN', version: p === 'wx' ? '8.0.50' : '10.5.0',
      system: 'iOS 17.0', platform: p === 'wx' ? 'devtools' : 'iOS', SDKVersion: p === 'wx' ? '3.5.0' : '2.9.0',
      safeArea: { left: 0, right: 375, top: 44, bottom: 812, width: 375, height: 768 }, app: p === 'my' ? 'alipay' : undefined,
    }
    const sys = () => this.toRealm(info)
    const api: Record<string, any> = {
      getSystemInfoSync: sys,
      getSystemInfo: this.asyncApi('getSystemInfo', async () => ({ ok: true, res: sys() })),
      getWindowInfo: sys,
      getDeviceInfo: sys,
      getAppBaseInfo: sys,
      getSystemSetting: () => this.toRealm({ bluetoothEnabled: false, locationEnabled: false, wifiEnabled: true }),
      getAppAuthorizeSetting: () => this.toRealm({}),
      getMenuButtonBoundingClientRect: () => this.toRealm({ width: 87, height: 32, top: 48, right: 365, bottom: 80, left: 278 }),
    }
    return api
  }

  // ─── storage ──────────────────────────────────────────────────────────────────────────
  private storageApi(p: MiniPlatform): Record<string, any> {
    const MAX_KEY = 1024 * 1024
    const MAX_TOTAL = 10 * 1024 * 1024
    const sizeOf = (v: unknown) => Buffer.byteLength(JSON.stringify(v) ?? '')
    const total = () => [...this.storage.values()].reduce((n: number, v) => n + sizeOf(v), 0)
    const write = (key: string, data: unknown): string | null => {
      if (typeof key !== 'string' || !key) return 'invalid key'
      if (this.opts.storageWriteFails && this.opts.storageWriteFails(key)) return 'exceed storage max size 10MB'
      const size = sizeOf(data)
      if (size > MAX_KEY) return 'exceed storage item max length'
      const prev = this.storage.has(key) ? sizeOf(this.storage.get(key)) : 0
      if (total() - prev + size > MAX_TOTAL) return 'exceed storage max size 10MB'
      this.storage.set(key, data === undefined ? undefined : JSON.parse(JSON.stringify(data)))
      return null
    }
    const read = (key: string) => (this.storage.has(key) ? this.toRealm(this.storage.get(key)) : undefined)
    const info = () => this.toRealm({ keys: [...this.storage.keys()], currentSize: Math.ceil(total() / 1024), limitSize: 10240 })
    const later = <T>(v: T) => new Promise<T>((r) => setImmediate(() => r(v)))

    if (p === 'wx') {
      return {
        setStorageSync: (key: string, data: unknown) => {
          const err = write(key, data)
          if (err) throw this.toRealm({ errMsg: `setStorageSync:fail ${err}` })
        },
        getStorageSync: (key: string) => (this.storage.has(key) ? read(key) : ''),
        removeStorageSync: (key: string) => { this.storage.delete(key) },
        clearStorageSync: () => { this.storage.clear() },
        getStorageInfoSync: info,
        setStorage: this.asyncApi('setStorage', (o) => {
          const err = write(o.key, o.data)
          return later(err ? { ok: false, res: { errMsg: `setStorage:fail ${err}` } } : { ok: true, res: { errMsg: 'setStorage:ok' } })
        }),
        getStorage: this.asyncApi('getStorage', (o) =>
          later(this.storage.has(o.key)
            ? { ok: true, res: { data: read(o.key), errMsg: 'getStorage:ok' } }
            : { ok: false, res: { errMsg: 'getStorage:fail data not found' } })),
        removeStorage: this.asyncApi('removeStorage', (o) => { this.storage.delete(o.key); return later({ ok: true, res: { errMsg: 'removeStorage:ok' } }) }),
        clearStorage: this.asyncApi('clearStorage', () => { this.storage.clear(); return later({ ok: true, res: { errMsg: 'clearStorage:ok' } }) }),
        getStorageInfo: this.asyncApi('getStorageInfo', () => later({ ok: true, res: info() })),
      }
    }
    // Alipay: object-style sync APIs; a missing key reads as `{ data: null }`.
    return {
      setStorageSync: (o: { key: string; data: unknown }) => {
        const err = write(o && o.key, o && o.data)
        return this.toRealm(err ? { error: 15, errorMessage: err, success: false } : { success: true })
      },
      getStorageSync: (o: { key: string }) => this.toRealm({ data: this.storage.has(o && o.key) ? this.storage.get(o.key) : null }),
      removeStorageSync: (o: { key: string }) => { this.storage.delete(o && o.key); return this.toRealm({ success: true }) },
      clearStorageSync: () => { this.storage.clear(); return this.toRealm({ success: true }) },
      getStorageInfoSync: info,
      setStorage: this.asyncApi('setStorage', (o) => {
        const err = write(o.key, o.data)
        return later(err ? { ok: false, res: { error: 15, errorMessage: err } } : { ok: true, res: { success: true } })
      }),
      getStorage: this.asyncApi('getStorage', (o) => later({ ok: true, res: { data: this.storage.has(o.key) ? read(o.key) : null } })),
      removeStorage: this.asyncApi('removeStorage', (o) => { this.storage.delete(o.key); return later({ ok: true, res: { success: true } }) }),
      clearStorage: this.asyncApi('clearStorage', () => { this.storage.clear(); return later({ ok: true, res: { success: true } }) }),
      getStorageInfo: this.asyncApi('getStorageInfo', () => later({ ok: true, res: info() })),
    }
  }

  // ─── file system ──────────────────────────────────────────────────────────────────────
  realPath(virtualPath: string): string {
    const v = String(virtualPath)
    const map: Array<[string, string]> = [
      [`${WX_USER_DATA}/`, 'usr'], [`${MY_USER_DATA}/`, 'usr'],
      ['wxfile://', 'tmp'], ['https://resource/', 'tmp'],
    ]
    for (const [prefix, sub] of map) {
      if (v.startsWith(prefix)) {
        const rel = v.slice(prefix.length)
        const resolved = path.resolve(this.tmpRoot, sub, rel)
        if (!resolved.startsWith(path.join(this.tmpRoot, sub))) throw new Error(`path escapes the sandbox: ${v}`)
        return resolved
      }
    }
    throw new Error(`not a simulated file path: ${v}`)
  }

  private newTempPath(ext: string): string {
    this.fileSeq += 1
    const name = `tmp_${Date.now().toString(36)}${this.fileSeq}${ext}`
    return this.platform === 'wx' ? `wxfile://${name}` : `https://resource/apml${name}`
  }

  private fileSystemManager(p: MiniPlatform): Record<string, any> {
    // wx takes positional arguments; Alipay takes one object. Both shapes are accepted on both.
    const arg = (a: any, key: string, pos: unknown) => (a && typeof a === 'object' && !Buffer.isBuffer(a) ? a[key] : pos)
    const fail = (name: string, err: unknown) => this.toRealm(p === 'wx'
      ? { errMsg: `${name}:fail ${(err as Error).message}` }
      : { error: 10022, errorMessage: (err as Error).message, success: false })
    const wrap = <T>(name: string, fn: () => T) => {
      try {
        return fn()
      } catch (err) {
        throw fail(name, err)
      }
    }
    return {
      writeFileSync: (a: any, data?: unknown, encoding?: string) => wrap('writeFileSync', () => {
        const file = this.realPath(arg(a, 'filePath', a))
        const body = arg(a, 'data', data)
        const enc = (arg(a, 'encoding', encoding) || 'utf8') as BufferEncoding
        fs.mkdirSync(path.dirname(file), { recursive: true })
        fs.writeFileSync(file, typeof body === 'string' ? Buffer.from(body, enc) : Buffer.from(body as ArrayBuffer))
        return p === 'my' ? this.toRealm({ success: true }) : undefined
      }),
      readFileSync: (a: any, encoding?: string) => wrap('readFileSync', () => {
        const buf = fs.readFileSync(this.realPath(arg(a, 'filePath', a)))
        const enc = arg(a, 'encoding', encoding) as BufferEncoding | undefined
        const content = enc ? buf.toString(enc) : new this.realm.Uint8Array(buf).buffer
        return p === 'my' ? { data: content } : content
      }),
      accessSync: (a: any) => wrap('accessSync', () => {
        fs.accessSync(this.realPath(arg(a, 'path', a)))
        return p === 'my' ? this.toRealm({ success: true }) : undefined
      }),
      unlinkSync: (a: any) => wrap('unlinkSync', () => {
        fs.unlinkSync(this.realPath(arg(a, 'filePath', a)))
        return p === 'my' ? this.toRealm({ success: true }) : undefined
      }),
      mkdirSync: (a: any, recursive?: boolean) => wrap('mkdirSync', () => {
        fs.mkdirSync(this.realPath(arg(a, 'dirPath', a)), { recursive: !!arg(a, 'recursive', recursive) })
        return p === 'my' ? this.toRealm({ success: true }) : undefined
      }),
      readdirSync: (a: any) => wrap('readdirSync', () => {
        const files = fs.readdirSync(this.realPath(arg(a, 'dirPath', a)))
        return this.toRealm(p === 'my' ? { files } : files)
      }),
    }
  }

  // ─── network ──────────────────────────────────────────────────────────────────────────
  private enqueue(task: NetTask): void {
    this.live.add(task)
    const limit = this.opts.maxInFlight ?? 10
    if (this.active < limit) this.begin(task)
    else this.queue.push(task)
  }

  private begin(task: NetTask): void {
    this.active += 1
    this.maxSeen = Math.max(this.maxSeen, this.active)
    task.start()
  }

  private release(task: NetTask, started: boolean): void {
    this.live.delete(task)
    const i = this.queue.indexOf(task)
    if (i >= 0) this.queue.splice(i, 1)
    if (started) {
      this.active -= 1
      const next = this.queue.shift()
      if (next && !this.closed) this.begin(next)
    }
  }

  get pending(): number {
    return this.active + this.queue.length
  }

  /**
   * One HTTP exchange with abort/timeout; `deliver` turns the outcome into the platform's callbacks.
   * Returns the platform task object (abort, onHeadersReceived).
   */
  private exchange(
    kind: HttpRecord['kind'],
    req: { url: string; method: string; headers: Record<string, string>; body?: Buffer; timeoutMs: number },
    deliver: (outcome: { status: number; headers: Record<string, string>; body: Buffer } | { error: 'abort' | 'timeout' | 'network'; message: string }) => void,
  ): Record<string, any> {
    const record: HttpRecord = { kind, method: req.method, url: req.url, headers: { ...req.headers }, startedAt: Date.now() }
    this.http.push(record)
    const headerListeners = new Set<(r: unknown) => void>()
    let started = false
    let done = false
    let clientReq: http.ClientRequest | null = null
    let timer: NodeJS.Timeout | null = null
    const finish = (outcome: Parameters<typeof deliver>[0]) => {
      if (done) return
      done = true
      if (timer) clearTimeout(timer)
      record.endedAt = Date.now()
      if ('status' in outcome) record.status = outcome.status
      else record.error = outcome.error === 'network' ? outcome.message : outcome.error
      this.release(task, started)
      if (!this.closed) deliver(outcome)
    }
    const task: NetTask = {
      start: () => {
        started = true
        let target: URL
        try {
          target = new URL(req.url)
        } catch {
          setImmediate(() => finish({ error: 'network', message: `invalid url ${req.url}` }))
          return
        }
        const lib = target.protocol === 'https:' ? https : http
        const headers: Record<string, string> = { ...req.headers }
        if (req.body && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) headers['Content-Length'] = String(req.body.length)
        timer = setTimeout(() => {
          clientReq?.destroy()
          finish({ error: 'timeout', message: 'timeout' })
        }, req.timeoutMs)
        clientReq = lib.request(target, { method: req.method, headers, agent: false }, (res) => {
          const resHeaders = rawHeaderObject(res.rawHeaders)
          for (const cb of headerListeners) this.guard(() => cb(this.toRealm({ header: resHeaders, headers: resHeaders, statusCode: res.statusCode })))
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () => finish({ status: res.statusCode || 0, headers: resHeaders, body: Buffer.concat(chunks) }))
          res.on('error', (e) => finish({ error: 'network', message: e.message }))
        })
        clientReq.on('error', (e: NodeJS.ErrnoException) => finish({ error: 'network', message: e.code || e.message }))
        if (req.body) clientReq.write(req.body)
        clientReq.end()
      },
      abort: (reason = 'abort') => {
        if (done) return
        clientReq?.destroy()
        if (reason === 'closed') {
          done = true
          if (timer) clearTimeout(timer)
          record.error = 'closed'
          this.release(task, started)
          return
        }
        // The platforms report an abort asynchronously, through fail.
        setImmediate(() => finish({ error: 'abort', message: 'abort' }))
      },
    }
    this.enqueue(task)
    return {
      abort: () => task.abort(),
      onHeadersReceived: (cb: (r: unknown) => void) => { headerListeners.add(cb) },
      offHeadersReceived: (cb: (r: unknown) => void) => { headerListeners.delete(cb) },
      onProgressUpdate: () => {},
      offProgressUpdate: () => {},
      onChunkReceived: () => {},
      offChunkReceived: () => {},
    }
  }

  private failFor(p: MiniPlatform, api: string, outcome: { error: string; message: string }): Record<string, any> {
    if (p === 'wx') {
      const reason = outcome.error === 'abort' ? 'abort' : outcome.error === 'timeout' ? 'timeout' : outcome.message
      return this.toRealm({ errMsg: `${api}:fail ${reason}` })
    }
    const code = outcome.error === 'abort' ? 9 : outcome.error === 'timeout' ? 13 : 12
    const message = outcome.error === 'abort' ? `${api}:fail abort` : outcome.error === 'timeout' ? 'timeout' : 'network error'
    return this.toRealm({ error: code, errorMessage: message, errMsg: message })
  }

  request(p: MiniPlatform, o: Record<string, any>): Record<string, any> {
    o = o || {}
    const method = String(o.method || 'GET').toUpperCase()
    // Alipay takes `headers` (newer clients also `header`); wx takes `header`.
    const given = (p === 'my' ? { ...(o.header || {}), ...(o.headers || {}) } : { ...(o.header || {}) }) as Record<string, unknown>
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries(given)) headers[k] = String(v)
    const ctype = Object.entries(headers).find(([k]) => k.toLowerCase() === 'content-type')
    // Defaults differ: wx sends JSON, Alipay a form (Taro and uni set JSON themselves on Alipay).
    if (!ctype && method !== 'GET') headers['content-type'] = p === 'wx' ? 'application/json' : 'application/x-www-form-urlencoded'
    let url = String(o.url || '')
    let body: Buffer | undefined
    const data = o.data
    if (method === 'GET' || method === 'HEAD') {
      if (data && typeof data === 'object' && !isBinary(data)) {
        const qs = Object.entries(data).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join('&')
        if (qs) url += (url.includes('?') ? '&' : '?') + qs
      } else if (typeof data === 'string' && data) {
        url += (url.includes('?') ? '&' : '?') + data
      }
    } else if (data != null) {
      const type = (ctype ? ctype[1] : headers['content-type']).toLowerCase()
      if (isBinary(data)) body = Buffer.from(data as ArrayBuffer)
      else if (typeof data === 'string') body = Buffer.from(data)
      else if (type.includes('x-www-form-urlencoded')) {
        body = Buffer.from(Object.entries(data).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join('&'))
      } else body = Buffer.from(JSON.stringify(data))
    }
    const dataType = o.dataType === undefined ? 'json' : String(o.dataType)
    const responseType = String(o.responseType || 'text')
    return this.exchange('request', { url, method, headers, body, timeoutMs: o.timeout || this.opts.timeoutMs || 60_000 }, (outcome) => {
      if (!('status' in outcome)) {
        this.settle(o, false, this.failFor(p, 'request', outcome))
        return
      }
      const { status, headers: resHeaders, body: resBody } = outcome
      let parsed: unknown
      let decodeError = false
      if (responseType === 'arraybuffer' || dataType === 'arraybuffer') parsed = new this.realm.Uint8Array(resBody).buffer
      else {
        const text = resBody.toString('utf8')
        parsed = text
        if (dataType === 'json') {
          try {
            parsed = this.realm.JSON.parse(text)
          } catch {
            decodeError = true // wx keeps the string; Alipay fails with error 14 (below)
          }
        }
      }
      if (p === 'wx') {
        const cookies = Object.entries(resHeaders).filter(([k]) => k.toLowerCase() === 'set-cookie').map(([, v]) => v)
        const res = { data: parsed, statusCode: status, header: this.toRealm(resHeaders), cookies: this.toRealm(cookies), errMsg: 'request:ok' }
        this.settle(o, true, res)
        return
      }
      const modern = this.opts.alipayModernFields ? { statusCode: status, header: this.toRealm(resHeaders) } : {}
      if (status < 200 || status > 299) {
        this.settle(o, false, { error: 19, errorMessage: 'http status error', status, data: parsed, headers: this.toRealm(resHeaders), ...modern })
      } else if (decodeError) {
        this.settle(o, false, { error: 14, errorMessage: 'JSON parse data error', status, data: parsed, headers: this.toRealm(resHeaders), ...modern })
      } else {
        this.settle(o, true, { data: parsed, status, headers: this.toRealm(resHeaders), ...modern })
      }
    })
  }

  uploadFile(p: MiniPlatform, o: Record<string, any>): Record<string, any> {
    o = o || {}
    const fieldName = p === 'my' ? o.fileName ?? o.name : o.name
    const invalid = !o.url ? 'url' : !o.filePath ? 'filePath' : !fieldName ? (p === 'my' ? 'fileName' : 'name') : p === 'my' && !o.fileType ? 'fileType' : null
    if (invalid) {
      setImmediate(() => this.settle(o, false, this.toRealm(p === 'wx'
        ? { errMsg: `uploadFile:fail parameter error: ${invalid} is required` }
        : { error: 2, errorMessage: `invalid parameter ${invalid}` })))
      return { abort: () => {}, onHeadersReceived: () => {}, offHeadersReceived: () => {}, onProgressUpdate: () => {}, offProgressUpdate: () => {} }
    }
    let file: Buffer
    try {
      file = fs.readFileSync(this.realPath(o.filePath))
    } catch (err) {
      setImmediate(() => this.settle(o, false, this.toRealm(p === 'wx'
        ? { errMsg: `uploadFile:fail file not found: ${o.filePath}` }
        : { error: 12, errorMessage: `file not found: ${(err as Error).message}` })))
      return { abort: () => {}, onHeadersReceived: () => {}, offHeadersReceived: () => {}, onProgressUpdate: () => {}, offProgressUpdate: () => {} }
    }
    const boundary = `----tokenrelay${randomBytes(8).toString('hex')}`
    const parts: Buffer[] = []
    for (const [k, v] of Object.entries(o.formData || {})) {
      parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${String(v)}\r\n`))
    }
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${fieldName}"; filename="${path.basename(String(o.filePath))}"\r\nContent-Type: application/octet-stream\r\n\r\n`))
    parts.push(file, Buffer.from(`\r\n--${boundary}--\r\n`))
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries({ ...(o.header || {}), ...(p === 'my' ? o.headers || {} : {}) })) headers[k] = String(v)
    headers['Content-Type'] = `multipart/form-data; boundary=${boundary}`
    return this.exchange('uploadFile', { url: String(o.url), method: 'POST', headers, body: Buffer.concat(parts), timeoutMs: o.timeout || this.opts.timeoutMs || 60_000 }, (outcome) => {
      if (!('status' in outcome)) {
        this.settle(o, false, this.failFor(p, 'uploadFile', outcome))
        return
      }
      // The body is a STRING on both platforms, whatever the status.
      const res = p === 'wx'
        ? { data: outcome.body.toString('utf8'), statusCode: outcome.status, errMsg: 'uploadFile:ok' }
        : { data: outcome.body.toString('utf8'), statusCode: outcome.status, header: this.toRealm(outcome.headers) }
      this.settle(o, true, res)
    })
  }

  downloadFile(p: MiniPlatform, o: Record<string, any>): Record<string, any> {
    o = o || {}
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries({ ...(o.header || {}), ...(p === 'my' ? o.headers || {} : {}) })) headers[k] = String(v)
    return this.exchange('downloadFile', { url: String(o.url || ''), method: 'GET', headers, timeoutMs: o.timeout || this.opts.timeoutMs || 60_000 }, (outcome) => {
      if (!('status' in outcome)) {
        this.settle(o, false, this.failFor(p, 'downloadFile', outcome))
        return
      }
      // Any status lands in a file: a 401 body too.
      const ext = path.extname(new URL(String(o.url)).pathname).slice(0, 10)
      const target = o.filePath ? String(o.filePath) : this.newTempPath(ext)
      try {
        const real = this.realPath(target)
        fs.mkdirSync(path.dirname(real), { recursive: true })
        fs.writeFileSync(real, outcome.body)
      } catch (err) {
        this.settle(o, false, this.toRealm(p === 'wx' ? { errMsg: `downloadFile:fail ${(err as Error).message}` } : { error: 12, errorMessage: (err as Error).message }))
        return
      }
      const res: Record<string, unknown> = o.filePath
        ? { filePath: target, statusCode: outcome.status }
        : { tempFilePath: target, statusCode: outcome.status }
      if (p === 'wx') res.errMsg = 'downloadFile:ok'
      else if (!o.filePath) res.apFilePath = target // older Alipay clients (and Taro's Alipay layer) read apFilePath
      this.settle(o, true, this.toRealm(res))
    })
  }

  // ─── modules and registration ───────────────────────────────────────────────────────
  requireFile(file: string): any {
    const abs = path.resolve(file)
    const cached = this.modules.get(abs)
    if (cached) return cached.exports
    if (!abs.startsWith(this.dir + path.sep)) throw new Error(`require outside the program: ${abs}`)
    const source = fs.readFileSync(abs, 'utf8')
    const module = { exports: {} as any }
    this.modules.set(abs, module)
    const wrapper = `(function (exports, require, module) {${source}\n})`
    const fn = new vm.Script(wrapper, { filename: abs }).runInContext(this.ctx)
    const localRequire = (spec: string) => this.requireFile(this.resolve(abs, spec))
    fn.call(module.exports, module.exports, localRequire, module)
    return module.exports
  }

  private resolve(from: string, spec: string): string {
    if (!spec.startsWith('.') && !spec.startsWith('/')) {
      throw new Error(`module "${spec}" not found from ${path.relative(this.dir, from)} (no Node built-ins or packages in a mini program)`)
    }
    const base = spec.startsWith('/') ? path.join(this.dir, spec) : path.resolve(path.dirname(from), spec)
    for (const candidate of [base, `${base}.js`, path.join(base, 'index.js')]) {
      if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate
    }
    throw new Error(`module "${spec}" not found from ${path.relative(this.dir, from)}`)
  }

  private define(kind: 'page' | 'component', options: Record<string, any>): void {
    // The first Page()/Component() made while a page file loads is that page.
    if (this.registering && !this.definitions.has(this.registering)) {
      this.definitions.set(this.registering, { kind, options })
    }
  }

  private definitionFor(route: string): PageDefinition {
    let def = this.definitions.get(route)
    if (!def) {
      this.registering = route
      try {
        this.requireFile(path.join(this.dir, `${route}.js`))
      } finally {
        this.registering = null
      }
      def = this.definitions.get(route)
    }
    if (!def) throw new Error(`${route}.js did not call Page() or Component()`)
    return def
  }

  // ─── pages ────────────────────────────────────────────────────────────────────────────
  routeOf(name: string): string {
    const clean = name.replace(/^\//, '').split('?')[0]
    if (this.routes.includes(clean)) return clean
    const hit = this.routes.find((r) => r.split('/').includes(clean))
    if (!hit) throw new Error(`no page "${name}" in app.json (${this.routes.join(', ')})`)
    return hit
  }

  private entryRoute(): string {
    return this.opts.entry ? this.routeOf(this.opts.entry) : this.appJson.entryPagePath || this.routes[0]
  }

  private createPage(route: string, query: Record<string, string>): PageInstance {
    const def = this.definitionFor(route)
    const o = def.options
    const self = this
    this.webviewId += 1
    const inst: PageInstance = {
      route,
      __route__: route,
      is: route,
      options: this.toRealm(query),
      __wxWebviewId__: this.webviewId,
      $viewId: String(this.webviewId),
      data: {},
      setData(patch: Record<string, unknown>, cb?: () => void) {
        if (!patch || typeof patch !== 'object') return
        for (const [key, value] of Object.entries(patch)) setPath(inst.data, key, value === undefined ? undefined : self.toRealm(value))
        inst.__setDataCount = (inst.__setDataCount || 0) + 1
        if (typeof cb === 'function') self.setTimerSafe(() => cb.call(inst))
      },
    }
    if (this.platform === 'my') {
      inst.$spliceData = (patch: Record<string, unknown[]>, cb?: () => void) => {
        for (const [key, spec] of Object.entries(patch || {})) {
          const arr = getPath(inst.data, key)
          if (Array.isArray(arr) && Array.isArray(spec)) {
            const [start, del, ...items] = spec as [number, number, ...unknown[]]
            arr.splice(start, del, ...items.map((x) => self.toRealm(x)))
          }
        }
        if (typeof cb === 'function') self.setTimerSafe(() => cb.call(inst))
      }
      inst.$batchedUpdates = (fn: () => void) => fn()
      inst.$page = inst
    }
    inst.selectComponent = () => null
    inst.selectAllComponents = () => this.realm.Array.from([])
    inst.createSelectorQuery = () => selectorQueryStub()
    inst.triggerEvent = () => {}
    inst.getOpenerEventChannel = () => ({ emit: () => {}, on: () => {}, once: () => {}, off: () => {} })

    if (def.kind === 'page') {
      for (const [k, v] of Object.entries(o)) {
        if (k === 'data') continue
        inst[k] = v
      }
      inst.data = this.toRealm(o.data || {})
    } else {
      // Component() used as a page (uni-app on WeChat): methods and behaviours land on the instance.
      const behaviors = (o.behaviors || []).filter((b: unknown) => b && typeof b === 'object')
      const data: Record<string, unknown> = {}
      for (const b of behaviors) Object.assign(data, b.data || {})
      Object.assign(data, typeof o.data === 'function' ? o.data() : o.data || {})
      const props: Record<string, unknown> = {}
      for (const [k, spec] of Object.entries(o.properties || {})) {
        props[k] = spec && typeof spec === 'object' && 'value' in (spec as object) ? (spec as { value: unknown }).value : null
      }
      inst.properties = props
      inst.data = this.toRealm({ ...props, ...data })
      for (const b of behaviors) Object.assign(inst, b.methods || {})
      Object.assign(inst, o.methods || {})
    }
    return inst
  }

  private hook(inst: PageInstance, name: string, ...args: unknown[]): void {
    const def = this.definitions.get(inst.route)
    if (!def) return
    if (def.kind === 'page') {
      if (typeof inst[name] === 'function') this.guard(() => inst[name](...args))
      return
    }
    const o = def.options
    const lifetimes = { ...(o.lifetimes || {}) }
    for (const l of ['created', 'attached', 'ready', 'detached']) if (!lifetimes[l] && typeof o[l] === 'function') lifetimes[l] = o[l]
    const behaviorHooks = (o.behaviors || []).filter((b: unknown) => b && typeof b === 'object')
    const call = (fn: unknown) => { if (typeof fn === 'function') this.guard(() => (fn as Function).apply(inst, args)) }
    switch (name) {
      case 'created':
      case 'attached':
      case 'ready':
      case 'detached':
        for (const b of behaviorHooks) call((b.lifetimes || {})[name] || b[name])
        call(lifetimes[name])
        return
      case 'onShow':
        call((o.pageLifetimes || {}).show)
        call(inst.onShow)
        return
      case 'onHide':
        call((o.pageLifetimes || {}).hide)
        call(inst.onHide)
        return
      default:
        call(inst[name])
    }
  }

  private setTimerSafe(fn: () => void): void {
    if (this.closed) return
    const t = setTimeout(() => {
      this.timers.delete(id)
      this.guard(fn)
    }, 0)
    const id = ++this.timerSeq
    this.timers.set(id, t)
  }

  private async openPage(route: string, query: Record<string, string>): Promise<PageInstance> {
    const inst = this.createPage(route, query)
    this.stack.push(inst)
    const def = this.definitions.get(route)!
    if (def.kind === 'component') {
      this.hook(inst, 'created')
      this.hook(inst, 'attached')
    }
    this.hook(inst, 'onLoad', this.toRealm(query))
    this.hook(inst, 'onShow')
    await macrotask()
    if (def.kind === 'component') this.hook(inst, 'ready')
    this.hook(inst, 'onReady')
    return inst
  }

  private closePage(inst: PageInstance): void {
    this.hook(inst, 'onUnload')
    const def = this.definitions.get(inst.route)
    if (def && def.kind === 'component') this.hook(inst, 'detached')
  }

  private navigationApi(p: MiniPlatform): Record<string, any> {
    const nav = (api: NavigationRecord['api']) => this.asyncApi(api, async (o) => {
      const url = String(o.url || '')
      const fail = (msg: string) => {
        this.navigations.push({ api, url, ok: false, errMsg: `${api}:fail ${msg}` })
        return { ok: false, res: this.toRealm(p === 'wx' ? { errMsg: `${api}:fail ${msg}` } : { error: 4, errorMessage: msg, errMsg: `${api}:fail ${msg}` }) }
      }
      await macrotask()
      if (this.closed) return { ok: false, res: {} }
      if (api === 'navigateBack') {
        const delta = Math.max(1, Number(o.delta) || 1)
        if (this.stack.length <= 1) return fail('cannot navigate back at first page.')
        const current = this.stack[this.stack.length - 1]
        this.navigations.push({ api, url: current.route, ok: true })
        for (let i = 0; i < delta && this.stack.length > 1; i++) this.closePage(this.stack.pop()!)
        this.hook(this.stack[this.stack.length - 1], 'onShow')
        return { ok: true, res: this.toRealm(p === 'wx' ? { errMsg: `${api}:ok` } : { success: true }) }
      }
      const [rawPath, qs] = url.split('?')
      let route: string
      const relative = !rawPath.startsWith('/')
      try {
        const resolved = relative && this.stack.length
          ? path.posix.join(path.posix.dirname(this.stack[this.stack.length - 1].route), rawPath)
          : rawPath.replace(/^\//, '')
        if (!this.routes.includes(resolved)) return fail(`page "${resolved}" is not found`)
        route = resolved
      } catch {
        return fail(`page "${rawPath}" is not found`)
      }
      const query = parseQuery(qs)
      const isTab = this.tabRoutes.includes(route)
      if ((api === 'navigateTo' || api === 'redirectTo') && isTab) return fail(`can not ${api} a tabbar page`)
      if (api === 'switchTab' && !isTab) return fail('can not switch to no-tabBar page')
      if (api === 'navigateTo' && this.stack.length >= 10) return fail('webview count limit exceed')
      this.navigations.push({ api, url, ok: true })
      const top = this.stack[this.stack.length - 1]
      if (api === 'navigateTo') {
        if (top) this.hook(top, 'onHide')
      } else if (api === 'redirectTo') {
        if (top) this.closePage(this.stack.pop()!)
      } else {
        // reLaunch and switchTab close every non-tab page (our tabs are not kept alive separately).
        while (this.stack.length) this.closePage(this.stack.pop()!)
      }
      await this.openPage(route, query)
      return { ok: true, res: this.toRealm(p === 'wx' ? { errMsg: `${api}:ok` } : { success: true }) }
    })
    return {
      navigateTo: nav('navigateTo'),
      redirectTo: nav('redirectTo'),
      switchTab: nav('switchTab'),
      reLaunch: nav('reLaunch'),
      navigateBack: nav('navigateBack'),
    }
  }

  // ─── launch ───────────────────────────────────────────────────────────────────────────
  async launch(): Promise<void> {
    const timeout = this.opts.launchTimeoutMs ?? 10_000
    let timer: NodeJS.Timeout | undefined
    const launching = (async () => {
      this.requireFile(path.join(this.dir, 'app.js'))
      if (!this.appOptions) throw new Error('app.js did not call App()')
      const launchOptions = this.toRealm(this.launchOptions())
      if (typeof this.appOptions.onLaunch === 'function') this.guard(() => this.appOptions!.onLaunch.call(this.appInst, launchOptions))
      if (typeof this.appOptions.onShow === 'function') this.guard(() => this.appOptions!.onShow.call(this.appInst, launchOptions))
      for (const cb of this.appShowListeners) this.guard(() => cb(launchOptions))
      await macrotask()
      const entry = this.entryRoute()
      this.navigations.push({ api: 'launch', url: `/${entry}`, ok: true })
      await this.openPage(entry, this.opts.query || {})
    })()
    try {
      await Promise.race([
        launching,
        new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`launch took longer than ${timeout} ms`)), timeout) }),
      ])
    } finally {
      if (timer) clearTimeout(timer)
    }
    if (this.errors.length) {
      const first = this.errors[0]
      throw new Error(`the program threw during launch: ${(first as Error)?.stack || safeInspect(first)}`)
    }
  }

  // ─── taps ─────────────────────────────────────────────────────────────────────────────
  /** Like a user: waits (up to `timeoutMs`) until the element is rendered, then taps it once. */
  async tap(name: string, elementId: string, timeoutMs = 5_000): Promise<void> {
    const inst = this.pageInstance(name)
    const invoke = await this.waitFor(() => this.tapTarget(inst, elementId), timeoutMs, `#${elementId} rendered on ${inst.route}`)
      .catch((err) => {
        throw new Error(`tap: ${(err as Error).message}${this.lastTapProblem ? ` (${this.lastTapProblem})` : ''}`)
      })
    this.guard(invoke)
    await macrotask()
    await macrotask()
  }

  private lastTapProblem = ''

  /** The function that performs the tap, or null while the element is not rendered/bound yet. */
  private tapTarget(inst: PageInstance, elementId: string): (() => unknown) | null {
    const data = inst.data
    const taroRoot = data && data.root && typeof data.root === 'object' ? data.root : null
    const event = (target: Record<string, unknown>) => this.toRealm({
      type: 'tap', timeStamp: Date.now(), target, currentTarget: target, detail: { x: 10, y: 10 }, touches: [], changedTouches: [],
    })
    if (typeof inst.eh === 'function') {
      // Taro: one event handler for the page; the node is found by its sid.
      const node = taroRoot && findTaroNode(taroRoot, elementId)
      if (!node) {
        this.lastTapProblem = 'not in the rendered Taro tree'
        return null
      }
      const target = { id: elementId, dataset: { sid: node.sid }, targetDataset: { sid: node.sid } }
      return () => inst.eh(event(target))
    }
    let handler: string
    try {
      handler = this.templateHandler(inst, elementId)
    } catch (err) {
      this.lastTapProblem = (err as Error).message
      return null
    }
    if (typeof inst[handler] !== 'function') {
      this.lastTapProblem = `bound to "${handler}", which is not a method`
      return null
    }
    const target = { id: elementId, dataset: {}, offsetLeft: 0, offsetTop: 0 }
    return () => inst[handler](event(target))
  }

  /** Finds the tap handler bound to `id="<elementId>"` in the page's template. */
  private templateHandler(inst: PageInstance, elementId: string): string {
    const ext = this.platform === 'wx' ? 'wxml' : 'axml'
    const file = path.join(this.dir, `${inst.route}.${ext}`)
    const tpl = fs.readFileSync(file, 'utf8')
    const tagRe = /<[a-zA-Z][\w-]*\s([^<>]*?)\/?>/g
    let m: RegExpExecArray | null
    while ((m = tagRe.exec(tpl))) {
      const attrs = parseAttributes(m[1])
      if (attrs.id !== elementId) continue
      const binding = attrs.bindtap ?? attrs['bind:tap'] ?? attrs.catchtap ?? attrs['catch:tap'] ?? attrs.onTap ?? attrs.catchTap
      if (binding === undefined) throw new Error(`tap: #${elementId} in ${path.basename(file)} has no tap binding`)
      const expr = /^\{\{\s*([\w.$[\]]+)\s*\}\}$/.exec(binding)
      if (!expr) return binding // a literal method name: native pages
      const value = getPath(inst.data, expr[1])
      if (typeof value !== 'string') throw new Error(`tap: #${elementId} binding ${binding} resolves to ${safeInspect(value)}`)
      return value
    }
    throw new Error(`tap: no element id="${elementId}" in ${path.relative(this.dir, file)}`)
  }

  pageInstance(name?: string): PageInstance {
    if (!this.stack.length) throw new Error('no page is open')
    if (!name) return this.stack[this.stack.length - 1]
    const route = this.routeOf(name)
    for (let i = this.stack.length - 1; i >= 0; i--) if (this.stack[i].route === route) return this.stack[i]
    throw new Error(`page ${route} is not open (stack: ${this.stack.map((p) => p.route).join(' > ')})`)
  }

  async waitFor<T>(check: () => T, timeoutMs = 10_000, what = 'condition'): Promise<NonNullable<T>> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const v = check()
      if (v) return v as NonNullable<T>
      if (this.closed) throw new Error(`waitFor(${what}): program closed`)
      if (Date.now() > deadline) throw new Error(`waitFor(${what}) timed out after ${timeoutMs} ms`)
      await new Promise((r) => setTimeout(r, 10))
    }
  }

  async close(): Promise<void> {
    if (this.closed) return
    for (const task of [...this.live]) task.abort('closed')
    this.closed = true
    for (const t of this.timers.values()) clearTimeout(t)
    this.timers.clear()
    this.queue.length = 0
    this.stack.length = 0
    this.modules.clear()
    fs.rmSync(this.tmpRoot, { recursive: true, force: true })
  }

  api(): MiniProgram {
    const rt = this
    return {
      platform: rt.platform,
      dir: rt.dir,
      routes: rt.routes,
      get appInstance() { return rt.appInst },
      pages: () => [...rt.stack],
      page: (name?: string) => rt.pageInstance(name),
      pageData: (name?: string) => JSON.parse(JSON.stringify(rt.pageInstance(name).data)),
      texts: (name?: string) => collectStrings(rt.pageInstance(name).data),
      tap: (name: string, id: string, timeoutMs?: number) => rt.tap(name, id, timeoutMs),
      call: async (name: string, method: string, ...args: unknown[]) => {
        const inst = rt.pageInstance(name)
        if (typeof inst[method] !== 'function') throw new Error(`${inst.route} has no method ${method}`)
        const out = rt.guard(() => inst[method](...args))
        await macrotask()
        return out
      },
      waitFor: (check, timeoutMs, what) => rt.waitFor(check, timeoutMs, what),
      waitForText: async (name: string, pattern: RegExp | string, timeoutMs?: number) => {
        const test = (s: string) => (typeof pattern === 'string' ? s.includes(pattern) : pattern.test(s))
        await rt.waitFor(() => collectStrings(rt.pageInstance(name).data).some(test), timeoutMs, `text ${pattern} on ${name}`)
        return collectStrings(rt.pageInstance(name).data)
      },
      idle: async (timeoutMs?: number) => {
        await rt.waitFor(() => rt.pending === 0, timeoutMs, 'network idle')
        await macrotask()
      },
      navigations: rt.navigations,
      http: rt.http,
      get maxInFlightSeen() { return rt.maxSeen },
      logs: rt.logs,
      errors: rt.errors,
      get missingApis() { return [...rt.missing].sort() },
      loginCodes: rt.loginCodes,
      storage: rt.storage,
      realPath: (v: string) => rt.realPath(v),
      global: rt.ctx as Record<string, any>,
      close: () => rt.close(),
    }
  }
}

// ─── helpers ──────────────────────────────────────────────────────────────────────────
function macrotask(): Promise<void> {
  return new Promise((r) => setTimeout(r, 0))
}

function isBinary(v: unknown): boolean {
  return v instanceof ArrayBuffer || ArrayBuffer.isView(v) || Object.prototype.toString.call(v) === '[object ArrayBuffer]'
}

function rawHeaderObject(raw: string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i]
    out[k] = k in out ? `${out[k]}, ${raw[i + 1]}` : raw[i + 1]
  }
  return out
}

function parseQuery(qs: string | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  if (!qs) return out
  for (const pair of qs.split('&')) {
    if (!pair) continue
    const [k, v = ''] = pair.split('=')
    out[decodeURIComponent(k)] = decodeURIComponent(v)
  }
  return out
}

/** setData path keys: `a.b`, `a[0].b`, and Taro's `root.cn.[0].v`. */
function pathTokens(key: string): Array<string | number> {
  const tokens: Array<string | number> = []
  const re = /\[(\d+)\]|[^.[\]]+/g
  let m: RegExpExecArray | null
  while ((m = re.exec(key))) tokens.push(m[1] !== undefined ? Number(m[1]) : m[0])
  return tokens
}

function setPath(root: Record<string, any>, key: string, value: unknown): void {
  const tokens = pathTokens(key)
  let cur: any = root
  for (let i = 0; i < tokens.length - 1; i++) {
    const t = tokens[i]
    if (cur[t] == null || typeof cur[t] !== 'object') cur[t] = typeof tokens[i + 1] === 'number' ? [] : {}
    cur = cur[t]
  }
  cur[tokens[tokens.length - 1]] = value
}

function getPath(root: unknown, key: string): any {
  let cur: any = root
  for (const t of pathTokens(key)) {
    if (cur == null) return undefined
    cur = cur[t]
  }
  return cur
}

function collectStrings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value)
  else if (Array.isArray(value)) for (const v of value) collectStrings(v, out)
  else if (value && typeof value === 'object') for (const v of Object.values(value)) collectStrings(v, out)
  return out
}

/** Taro's rendered tree: nodes `{nn, sid, uid?, cn: [...]}`; the user's id is `uid`. */
function findTaroNode(node: any, id: string): any {
  if (!node || typeof node !== 'object') return null
  if (node.uid === id || node.id === id) return node
  for (const child of node.cn || []) {
    const hit = findTaroNode(child, id)
    if (hit) return hit
  }
  return null
}

function parseAttributes(src: string): Record<string, string> {
  const out: Record<string, string> = {}
  const re = /([:@\w.-]+)(?:\s*=\s*"([^"]*)")?/g
  let m: RegExpExecArray | null
  while ((m = re.exec(src))) out[m[1]] = m[2] ?? ''
  return out
}

function selectorQueryStub(): Record<string, any> {
  const q: Record<string, any> = {
    in: () => q,
    select: () => q,
    selectAll: () => q,
    selectViewport: () => q,
    boundingClientRect: () => q,
    scrollOffset: () => q,
    fields: () => q,
    node: () => q,
    exec: (cb?: (r: unknown[]) => void) => { if (cb) setTimeout(() => cb([]), 0) },
  }
  return q
}

function safeInspect(v: unknown): string {
  try {
    if (v instanceof Error || (v && typeof v === 'object' && 'stack' in (v as object))) return String((v as Error).stack || v)
    return typeof v === 'object' ? JSON.stringify(v) : String(v)
  } catch {
    return String(v)
  }
}
