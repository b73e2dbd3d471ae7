// What `tokenrelay/taro` (install) and `tokenrelay/taro/h5-api` (the H5 build's wrapper of Taro's API
// module) share. No import of '@tarojs/taro' here: the H5 wrapper IS what '@tarojs/taro' resolves to in
// that build, so this module must not import it back.
import type { AbortSignalLike, RelayRequest, RelayResponse } from '../../src/index.js'
import type { Finish, PlatformTask, TaskTransport } from '../shared/call.js'
import { callThrough } from '../shared/call.js'
import type { InstalledRelay } from '../shared/types.js'

/** The name tokenrelay/taro installs under (one adapter at a time: shared/install.ts). */
export const TARO = 'tokenrelay/taro'

export type Params = Record<string, any>
export type TaroPromise = Promise<any> & { abort?(): void }
export type FileApi = 'uploadFile' | 'downloadFile'

/** Answers Taro REJECTED (Alipay non-2xx, JSON decode errors) → the rejection the caller would have had. */
const rejected = new WeakMap<object, unknown>()

/**
 * Settles one attempt as the engine needs it: every HTTP answer resolves, even one Taro rejected
 * (Alipay rejects non-2xx with `status`; H5 sets `statusCode` on the error); no answer rejects as is.
 */
export function settle(p: TaroPromise, signal?: AbortSignalLike, onTask?: (task: PlatformTask) => void): Promise<RelayResponse> {
  if (onTask) onTask(p as unknown as PlatformTask)
  if (signal) signal.addEventListener('abort', () => void p.abort?.())
  return p.then(undefined, (error) => {
    const status = error && (error.statusCode || error.status)
    if (typeof status !== 'number') throw error
    const response: RelayResponse = { statusCode: status, header: error.header || error.headers, data: error.data }
    rejected.set(response, error)
    return response
  })
}

/** An answer Taro rejected reaches the caller as that rejection (an object: settle checked its status). */
export const finish: Finish = (response) => {
  const error = rejected.get(response)
  return { ok: !error, value: error || response }
}

/** One attempt's options: the relay's fields removed, the caller's own H5 `signal` put back. */
export function attempt({ kind: _kind, auth: _auth, signal: _signal, ...params }: RelayRequest, signal?: unknown): Params {
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

/** One `uploadFile`/`downloadFile` call through the relay; `original` sends each attempt. */
export function fileCall(relay: InstalledRelay, api: FileApi, original: (o: Params) => TaroPromise, options: Params) {
  const send: TaskTransport = (req, onTask) => settle(original(attempt(req)), req.signal, onTask)
  return taroTask(callThrough(relay, api === 'uploadFile' ? 'upload' : 'download', api, options as never, send, finish), true)
}
