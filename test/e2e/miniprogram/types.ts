// The harness's public types: what loadMiniProgram() takes and the MiniProgram handle it returns.
// miniprogram-runtime.ts re-exports them; the modules beside this one share them.

/** `tt` (Douyin) follows wx's conventions: answers, `errMsg` (plus `errNo`), key/value storage, navigation. */
export type MiniPlatform = 'wx' | 'my' | 'tt'

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
  /**
   * Highest number of network calls in flight at once. Never above `maxInFlight`, which the harness itself
   * enforces: it tells that the limit was reached, not that the program stayed under it.
   */
  readonly maxInFlightSeen: number
  readonly logs: LogRecord[]
  readonly errors: unknown[]
  /** `wx.foo` / `my.foo` members the program read that the simulation lacks (framework probes excluded). */
  readonly missingApis: string[]
  /** Codes handed out by wx.login / my.getAuthCode, in order. */
  readonly loginCodes: string[]
  /** tt only: the `force` option of each tt.login call (Douyin opens the host's login popup unless it is false). */
  readonly loginForce: unknown[]
  /** The simulated storage (values as stored). */
  readonly storage: Map<string, unknown>
  /** Real path of a simulated file path (`wxfile://…`, `https://resource/…`). */
  realPath(virtualPath: string): string
  /** The context's global object, for tests that need to reach in. */
  readonly global: Record<string, any>
  close(): Promise<void>
}
