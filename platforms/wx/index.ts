import type { TokenStorage } from '../../src/index.js'
import type { TaskTransport } from '../shared/call.js'
import { promisify } from '../shared/callbacks.js'
import type { CallbackPlatform, NetworkFn } from '../shared/patch.js'
import { installNetwork, wrapNetwork } from '../shared/patch.js'
import { callSite } from '../shared/registry.js'
import type { InstalledRelay, PlatformOptions } from '../shared/types.js'

export type { InstalledRelay, PlatformOptions } from '../shared/types.js'

/** The part of `wx` the adapter uses (Alipay-free, so it fits QQ/Baidu-style clones too). */
export interface WxLike extends CallbackPlatform {
  login(o: { success(r: { code: string }): void; fail(e: unknown): void }): void
  getStorageSync(key: string): unknown
  setStorageSync(key: string, value: unknown): void
  removeStorageSync(key: string): void
}

declare const wx: WxLike
declare const __wxConfig: { tabBar?: { list?: { pagePath: string }[] } } | undefined

/** Sync storage; `setStorageSync` throws when full, which the relay survives. */
export const wxStorage = (w: WxLike): TokenStorage => ({
  get: (key) => w.getStorageSync(key) as string,
  set: (key, value) => w.setStorageSync(key, value),
  remove: (key) => w.removeStorageSync(key),
})

/** `wx.login()` → a code for the app's server to exchange (code2Session); undefined when it gave none. */
export const wxLoginCode = (w: WxLike = wx) => promisify<{ code?: string }>((o) => w.login(o)).then((r) => r && r.code)

/**
 * One attempt on a platform that answers every HTTP status on `success` and only network failures on
 * `fail` (wx, and Douyin's tt).
 */
export const wxTransport =
  (send: NetworkFn): TaskTransport =>
  ({ kind: _kind, auth: _auth, signal, ...params }, onTask) =>
    new Promise((resolve, reject) => {
      const task = send({ ...params, success: resolve, fail: reject })
      onTask(task)
      if (signal) signal.addEventListener('abort', () => task.abort())
    })

/**
 * The relay and wrapped request functions, without touching the global `wx`.
 * @example const { request } = createWxRelay({ baseURL: 'https://api.example.com', refresh }); request({ url: '/me' })
 */
export const createWxRelay = (options: PlatformOptions = {}, w: WxLike = wx) =>
  wrapNetwork(options, w, {
    transport: wxTransport,
    storage: wxStorage(w),
    getCode: () => wxLoginCode(w),
    tabBar: () => ((typeof __wxConfig !== 'undefined' && __wxConfig.tabBar && __wxConfig.tabBar.list) || []).map((i) => i.pagePath),
  })

/**
 * Routes `wx.request`, `wx.uploadFile` and `wx.downloadFile` through one relay, so existing code keeps
 * working unchanged, callbacks or promises. Don't combine with the Taro or uni-app adapter. A second
 * install() replaces the first (with a warning naming both calls); `uninstall()` may be called twice.
 * @example const relay = install({ baseURL: 'https://api.example.com', refresh, loginPage: '/pages/login/index' })
 */
export const install = (options: PlatformOptions = {}, w: WxLike = wx): InstalledRelay =>
  installNetwork('wx', w, options, { site: callSite() }, () => createWxRelay(options, w))

declare global {
  // `auth: false` on wx's own option types (miniprogram-api-typings), no casts needed.
  namespace WechatMiniprogram {
    interface RequestOption {
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
