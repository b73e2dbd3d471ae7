import type { RelayResponse, TokenStorage } from '../../src/index.js'
import { answeredOnFail } from '../shared/answer.js'
import { promisify } from '../shared/callbacks.js'
import type { CallbackPlatform, NetworkFn } from '../shared/patch.js'
import { installNetwork, wrapNetwork } from '../shared/patch.js'
import { callSite } from '../shared/registry.js'
import type { InstalledRelay, PlatformOptions } from '../shared/types.js'

export type { InstalledRelay, PlatformOptions } from '../shared/types.js'

type Raw = Record<string, unknown>

/** The part of Alipay's `my` the adapter uses. */
export interface MyLike extends CallbackPlatform {
  getAuthCode(o: { scopes: string; success(r: { authCode: string }): void; fail(e: unknown): void }): void
  getStorageSync(o: { key: string }): { data?: unknown } | undefined
  setStorageSync(o: { key: string; data: unknown }): void
  removeStorageSync(o: { key: string }): void
}

declare const my: MyLike

/** Alipay's "http status error": the answer arrived, with a non-2xx status, on the `fail` path. */
const HTTP_STATUS_ERROR = 19

/** Object-style storage: `my.setStorageSync({ key, data })`. */
export function myStorage(m: MyLike): TokenStorage {
  return {
    get: (key) => {
      const r = m.getStorageSync({ key })
      return r && (r.data as string)
    },
    set: (key, data) => m.setStorageSync({ key, data }),
    remove: (key) => m.removeStorageSync({ key }),
  }
}

/** `my.getAuthCode({ scopes: 'auth_base' })`: silent, no popup. Undefined when it gave no code. */
export const myAuthCode = (m: MyLike = my) =>
  promisify<{ authCode?: string }>((o) => m.getAuthCode({ scopes: 'auth_base', ...o })).then((r) => r && r.authCode)

/** Old clients answer `status`/`headers`, new ones also `statusCode`/`header`: give callers both. */
function normalise(r: Raw): RelayResponse {
  const statusCode = (r.statusCode ?? r.status) as number
  const header = (r.header || r.headers) as RelayResponse['header']
  return { ...r, statusCode, status: statusCode, header, headers: header }
}

/**
 * The relay and wrapped request functions, without touching the global `my`.
 * @example const { request } = createMyRelay({ baseURL: 'https://api.example.com', refresh })
 */
export const createMyRelay = (options: PlatformOptions = {}, m: MyLike = my) =>
  wrapNetwork(options, m, {
    transport:
      (send: NetworkFn, kind) =>
      ({ kind: _kind, auth: _auth, signal, header, ...params }, onTask) =>
        new Promise((resolve, reject) => {
          const strings: Record<string, string> = {}
          for (const k in header) strings[k] = String(header[k]) // Alipay rejects non-string header values
          const task = send({
            ...params,
            // my.request reads `headers` (new clients also `header`); uploads and downloads read `header`.
            [kind === 'request' ? 'headers' : 'header']: strings,
            success: (r: Raw) => resolve(normalise(r)),
            // A final non-2xx goes back on `fail`, as Alipay itself delivered it.
            fail: (e: Raw) => (e.error === HTTP_STATUS_ERROR ? resolve(answeredOnFail(normalise(e))) : reject(e)),
          })
          onTask(task)
          if (signal) signal.addEventListener('abort', () => task.abort())
        }),
    storage: myStorage(m),
    getCode: () => myAuthCode(m),
    // Callers may write either spelling; the relay and `attach` work on `header`.
    prepare: ({ headers, ...rest }) => ({ ...rest, header: { ...(headers as object), ...(rest.header as object) } }),
  })

/**
 * Routes `my.request`, `my.uploadFile` and `my.downloadFile` through one relay. A 401 that Alipay
 * reports on `fail` (`error: 19`) is an expiry; `error: 14` (JSON decode) is not. A second install()
 * replaces the first (with a warning naming both calls); `uninstall()` may be called twice.
 * @example const relay = install({ baseURL: 'https://api.example.com', refresh, loginPage: '/pages/login/index' })
 */
export const install = (options: PlatformOptions = {}, m: MyLike = my): InstalledRelay =>
  installNetwork('my', m, options, { site: callSite() }, () => createMyRelay(options, m))
