import type { RelayRequest, TokenStorage } from '../../src/index.js'
import type { PlatformTask, TaskTransport } from '../shared/call.js'
import { callThrough } from '../shared/call.js'
import { platformRelay, promisify } from '../shared/install.js'
import type { NavigationApi } from '../shared/login-page.js'
import { patchNetwork } from '../shared/patch.js'
import type { InstalledRelay, PlatformOptions } from '../shared/types.js'

export type { InstalledRelay, PlatformOptions } from '../shared/types.js'

type Call = (options: Record<string, unknown>) => PlatformTask

/** The part of `wx` the adapter uses (Alipay-free, so it fits QQ/Baidu-style clones too). */
export interface WxLike extends NavigationApi {
  request: Call
  uploadFile: Call
  downloadFile: Call
  login(o: { success(r: { code: string }): void; fail(e: unknown): void }): void
  getStorageSync(key: string): unknown
  setStorageSync(key: string, value: unknown): void
  removeStorageSync(key: string): void
}

declare const wx: WxLike
declare const __wxConfig: { tabBar?: { list?: { pagePath: string }[] } } | undefined

const API = { request: 'request', upload: 'uploadFile', download: 'downloadFile' } as const

/** Sync storage; `setStorageSync` throws when full, which the relay survives. */
export function wxStorage(w: WxLike): TokenStorage {
  return {
    get: (key) => w.getStorageSync(key) as string,
    set: (key, value) => w.setStorageSync(key, value),
    remove: (key) => w.removeStorageSync(key),
  }
}

/** `wx.login()` → a code for the app's server to exchange (code2Session). */
export const wxLoginCode = (w: WxLike = wx) => promisify<{ code: string }>((o) => w.login(o)).then((r) => r.code)

function transportFor(call: Call): TaskTransport {
  return ({ kind: _kind, auth: _auth, signal, ...params }: RelayRequest, onTask) =>
    new Promise((resolve, reject) => {
      const task = call({ ...params, success: resolve, fail: reject })
      onTask(task)
      if (signal) signal.addEventListener('abort', () => task.abort())
    })
}

/**
 * The relay and wrapped request functions, without touching the global `wx`.
 * @example const { request } = createWxRelay({ baseURL: 'https://api.example.com', refresh }); request({ url: '/me' })
 */
export function createWxRelay(options: PlatformOptions = {}, w: WxLike = wx) {
  const calls = { request: w.request, uploadFile: w.uploadFile, downloadFile: w.downloadFile }
  const transports = {
    request: transportFor(calls.request.bind(w)),
    upload: transportFor(calls.uploadFile.bind(w)),
    download: transportFor(calls.downloadFile.bind(w)),
  }
  const { relay, returnAfterLogin } = platformRelay(options, {
    storage: wxStorage(w),
    transport: (req) => transports.request(req, () => {}),
    getCode: () => wxLoginCode(w),
    // getCurrentPages is a global in mini programs, not a member of wx.
    nav: () => ({ navigateTo: w.navigateTo, redirectTo: w.redirectTo, switchTab: w.switchTab }),
    tabBar: () => ((typeof __wxConfig !== 'undefined' && __wxConfig.tabBar && __wxConfig.tabBar.list) || []).map((i) => i.pagePath),
  })
  const wrap = (kind: keyof typeof transports) => (o: Record<string, unknown>) =>
    callThrough(relay, kind, API[kind], o as { url: string }, transports[kind])
  return {
    relay,
    returnAfterLogin,
    originals: calls,
    request: wrap('request'),
    uploadFile: wrap('upload'),
    downloadFile: wrap('download'),
  }
}

/**
 * Routes `wx.request`, `wx.uploadFile` and `wx.downloadFile` through one relay, so existing code keeps
 * working unchanged, callbacks or promises. Don't combine with the Taro or uni-app adapter.
 * @example const relay = install({ baseURL: 'https://api.example.com', refresh, loginPage: '/pages/login/index' })
 */
export function install(options: PlatformOptions = {}, w: WxLike = wx): InstalledRelay {
  return patchNetwork('wx', w, createWxRelay(options, w), options)
}

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
