import type { RelayRequest, RelayResponse, TokenStorage } from '../../src/index.js'
import type { Finish, PlatformTask, TaskTransport } from '../shared/call.js'
import { callThrough } from '../shared/call.js'
import { platformRelay, promisify } from '../shared/install.js'
import type { NavigationApi } from '../shared/login-page.js'
import { patchNetwork } from '../shared/patch.js'
import type { InstalledRelay, PlatformOptions } from '../shared/types.js'

export type { InstalledRelay, PlatformOptions } from '../shared/types.js'

type Call = (options: Record<string, unknown>) => PlatformTask
type Raw = Record<string, unknown>

/** The part of Alipay's `my` the adapter uses. */
export interface MyLike extends NavigationApi {
  request: Call
  uploadFile: Call
  downloadFile: Call
  getAuthCode(o: { scopes: string; success(r: { authCode: string }): void; fail(e: unknown): void }): void
  getStorageSync(o: { key: string }): { data?: unknown } | undefined
  setStorageSync(o: { key: string; data: unknown }): void
  removeStorageSync(o: { key: string }): void
}

declare const my: MyLike

const API = { request: 'request', upload: 'uploadFile', download: 'downloadFile' } as const
/** Alipay's "http status error": the answer arrived, with a non-2xx status, on the `fail` path. */
const HTTP_STATUS_ERROR = 19
const FAILED = '__tokenrelayFailed'

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

/** `my.getAuthCode({ scopes: 'auth_base' })`: silent, no popup. */
export const myAuthCode = (m: MyLike = my) =>
  promisify<{ authCode: string }>((o) => m.getAuthCode({ scopes: 'auth_base', ...o })).then((r) => r.authCode)

/** Old clients answer `status`/`headers`, new ones also `statusCode`/`header`: give callers both. */
function normalise(r: Raw): RelayResponse {
  const statusCode = (r.statusCode ?? r.status) as number
  const header = (r.header || r.headers) as RelayResponse['header']
  return { ...r, statusCode, status: statusCode, header, headers: header }
}

function transportFor(call: Call, kind: keyof typeof API): TaskTransport {
  return ({ kind: _kind, auth: _auth, signal, header, ...params }: RelayRequest, onTask) =>
    new Promise((resolve, reject) => {
      const strings: Record<string, string> = {}
      for (const k in header) strings[k] = String(header[k]) // Alipay rejects non-string header values
      const task = call({
        ...params,
        // my.request reads `headers` (new clients also `header`); uploads and downloads read `header`.
        [kind === 'request' ? 'headers' : 'header']: strings,
        success: (r: Raw) => resolve(normalise(r)),
        fail: (e: Raw) => (e.error === HTTP_STATUS_ERROR ? resolve({ ...normalise(e), [FAILED]: true }) : reject(e)),
      })
      onTask(task)
      if (signal) signal.addEventListener('abort', () => task.abort())
    })
}

/** A final non-2xx goes back on `fail`, as Alipay itself would have delivered it. */
const finish: Finish = (response) => {
  const { [FAILED]: failed, ...value } = response
  return { ok: !failed, value }
}

/**
 * The relay and wrapped request functions, without touching the global `my`.
 * @example const { request } = createMyRelay({ baseURL: 'https://api.example.com', refresh })
 */
export function createMyRelay(options: PlatformOptions = {}, m: MyLike = my) {
  const calls = { request: m.request, uploadFile: m.uploadFile, downloadFile: m.downloadFile }
  const transports = {
    request: transportFor(calls.request.bind(m), 'request'),
    upload: transportFor(calls.uploadFile.bind(m), 'upload'),
    download: transportFor(calls.downloadFile.bind(m), 'download'),
  }
  const { relay, returnAfterLogin } = platformRelay(options, {
    storage: myStorage(m),
    transport: (req) => transports.request(req, () => {}).then(finishForRefresh),
    getCode: () => myAuthCode(m),
    nav: () => ({ navigateTo: m.navigateTo, redirectTo: m.redirectTo, switchTab: m.switchTab }),
  })
  const wrap = (kind: keyof typeof transports) => (o: { url: string; [key: string]: unknown }) => {
    // Callers may write either spelling; the relay and `attach` work on `header`.
    const { headers, ...rest } = o
    return callThrough(relay, kind, API[kind], { ...rest, header: { ...(headers as object), ...(o.header as object) } }, transports[kind], finish)
  }
  return { relay, returnAfterLogin, originals: calls, request: wrap('request'), uploadFile: wrap('upload'), downloadFile: wrap('download') }
}

/** Refresh/login calls get the plain normalised response (the relay classifies its status). */
function finishForRefresh(response: RelayResponse): RelayResponse {
  return finish(response).value as RelayResponse
}

/**
 * Routes `my.request`, `my.uploadFile` and `my.downloadFile` through one relay. A 401 that Alipay
 * reports on `fail` (`error: 19`) is an expiry; `error: 14` (JSON decode) is not.
 * @example const relay = install({ baseURL: 'https://api.example.com', refresh, loginPage: '/pages/login/index' })
 */
export function install(options: PlatformOptions = {}, m: MyLike = my): InstalledRelay {
  return patchNetwork('my', m, createMyRelay(options, m), options)
}
