import { promisify } from '../shared/callbacks.js'
import type { CallbackPlatform } from '../shared/patch.js'
import { installNetwork, wrapNetwork } from '../shared/patch.js'
import { callSite } from '../shared/registry.js'
import type { InstalledRelay, PlatformOptions } from '../shared/types.js'
import { wxStorage, wxTransport } from '../wx/index.js'

export type { InstalledRelay, PlatformOptions } from '../shared/types.js'

/** What `tt.login` gives: `code` only for a user logged in to the host app (Douyin, Toutiao…). */
export interface TtLoginResult {
  code?: string
  /** Names the device, not the user: given whether or not the user is logged in. */
  anonymousCode?: string
  isLogin?: boolean
}

/** The part of Douyin's `tt` the adapter uses. */
export interface TtLike extends CallbackPlatform {
  login(o: { force?: boolean; success(r: TtLoginResult): void; fail(e: unknown): void }): void
  getStorageSync(key: string): unknown
  setStorageSync(key: string, value: unknown): void
  removeStorageSync(key: string): void
}

declare const tt: TtLike

/**
 * `tt.login({ force: false })` → the user's code for the app's server to exchange (code2Session), or
 * undefined for a user not logged in to the host app. `force: true` (Douyin's default) would open the host's
 * login popup in the middle of a background refresh: the adapter never asks for it, so such a user ends
 * the session once and lands on the app's login page, where a tap may call `tt.login()` with its popup.
 * `anonymousCode` is not a login: it names the device.
 */
export const ttLoginCode = (t: TtLike = tt) =>
  promisify<TtLoginResult>((o) => t.login({ ...o, force: false })).then((r) => (r && r.code) || undefined)

/**
 * The relay and wrapped request functions, without touching the global `tt`.
 * @example const { request } = createTtRelay({ baseURL: 'https://api.example.com', refresh }); request({ url: '/me' })
 */
export const createTtRelay = (options: PlatformOptions = {}, t: TtLike = tt) =>
  wrapNetwork(options, t, {
    // Like wx: every HTTP answer (401 included) on `success`; `fail` only when none arrived (`errMsg`, `errNo`).
    transport: wxTransport,
    // Key/value sync storage, as wx; `setStorageSync` throws when full, which the relay survives.
    storage: wxStorage(t),
    getCode: () => ttLoginCode(t),
    // No documented global app config to read the tabBar from: pass `tabBar` in the options.
  })

/**
 * Routes `tt.request`, `tt.uploadFile` and `tt.downloadFile` through one relay, so existing code keeps
 * working unchanged, callbacks or promises. Don't combine with the Taro or uni-app adapter. A second
 * install() replaces the first (with a warning naming both calls); `uninstall()` may be called twice.
 * @example const relay = install({ baseURL: 'https://api.example.com', refresh, loginPage: '/pages/login/index' })
 */
export const install = (options: PlatformOptions = {}, t: TtLike = tt): InstalledRelay =>
  installNetwork('tt', t, options, { site: callSite() }, () => createTtRelay(options, t))
