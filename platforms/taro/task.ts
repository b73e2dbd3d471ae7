// What `tokenrelay/taro` (install) and `tokenrelay/taro/h5-api` (the H5 build's wrapper of Taro's API
// module) share. No import of '@tarojs/taro' here: the H5 wrapper IS what '@tarojs/taro' resolves to in
// that build, so this module must not import it back.
import type { AbortSignalLike, RelayRequest, RelayResponse, TokenRelay } from '../../src/index.js'
import { answeredOnFail } from '../shared/answer.js'
import type { PlatformTask, TaskTransport } from '../shared/call.js'
import { callThrough } from '../shared/call.js'
import type { Report } from '../shared/report.js'

/** The name tokenrelay/taro installs under (one adapter at a time: shared/registry.ts). */
export const TARO = 'tokenrelay/taro'

/** Brands a Taro file function that already goes through the relay (the H5 wrapper's), so nothing wraps it twice. */
const RELAYED = '__tokenrelayRelayed'
export const markRelayed = <F extends object>(fn: F): F => Object.defineProperty(fn, RELAYED, { value: true })
export const isRelayed = (fn: unknown): boolean => typeof fn === 'function' && (fn as unknown as Record<string, unknown>)[RELAYED] === true

export type Params = Record<string, any>
export type TaroPromise = Promise<any> & { abort?(): void }
export type FileApi = 'uploadFile' | 'downloadFile'

/**
 * One attempt's promise as the engine needs it: every HTTP answer resolves, even one Taro rejected
 * (Alipay rejects non-2xx with `status`; H5 sets `statusCode` on the error), marked so that a final one
 * reaches the caller as that rejection; no answer rejects as is.
 */
export function asAnswer(p: TaroPromise, signal?: AbortSignalLike, onTask?: (task: PlatformTask) => void): Promise<RelayResponse> {
  if (onTask) onTask(p as unknown as PlatformTask)
  if (signal) signal.addEventListener('abort', () => void p.abort?.())
  return p.then(undefined, (error) => {
    const status = error && (error.statusCode || error.status)
    if (typeof status !== 'number') throw error
    return answeredOnFail<RelayResponse>({ statusCode: status, header: error.header || error.headers, data: error.data }, error)
  })
}

/** One attempt's options: the relay's fields removed, the caller's own H5 `signal` put back. */
export function attemptParams({ kind: _kind, auth: _auth, signal: _signal, ...params }: RelayRequest, signal?: unknown): Params {
  if (signal) params.signal = signal
  return params
}

/** Taro's tasks: `abort(cb)` and `progress(cb)` return the promise itself. */
export function taroTask(task: Promise<unknown> & PlatformTask, progress?: boolean) {
  const abort = task.abort
  task.abort = ((cb?: () => void) => {
    if (cb) cb()
    abort()
    return task
  }) as () => void
  if (progress) task.progress = (cb: unknown) => ((task.onProgressUpdate as (cb: unknown) => void)(cb), task)
  return task
}

/**
 * The task the interceptor hands back to Taro's chain. The chain gives the caller `p.catch((e) =>
 * Promise.reject(e))`, a promise made from ours that tokenrelay never sees. A caller that passed
 * callbacks hears of a failure through `fail` and may drop that promise (`@tarojs/plugin-http` does):
 * for such a caller the first promise made from ours by `catch` is marked handled. Later ones (the
 * caller's own `.catch(...)`, which the chain copies over) behave as usual.
 */
export function chainTask(task: Promise<unknown> & PlatformTask, callbacks: boolean) {
  taroTask(task)
  if (!callbacks) return task
  let chained = false
  task.catch = function (this: Promise<unknown>, onRejected?: (reason: any) => unknown) {
    const next = Promise.prototype.catch.call(this, onRejected)
    if (!chained) next.catch(() => {})
    chained = true
    return next
  } as typeof task.catch
  return task
}

/** One `uploadFile`/`downloadFile` call through the relay; `original` sends each attempt. */
export function fileCall(relay: TokenRelay, api: FileApi, original: (o: Params) => TaroPromise, options: Params, report: Report) {
  const send: TaskTransport = (req, onTask) => asAnswer(original(attemptParams(req)), req.signal, onTask)
  return taroTask(callThrough(relay, api, options as never, send, report), true)
}
