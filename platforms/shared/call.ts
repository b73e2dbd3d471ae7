import type { RelayRequest, RelayResponse, RequestKind, TokenRelay, TokenRelayError } from '../../src/index.js'
import { isTokenRelayError } from '../../src/index.js'
import { createAbort } from './signal.js'

/** The platform's task (wx RequestTask, UploadTask…): what a caller may hold and call. */
export interface PlatformTask {
  abort(): void
  [method: string]: unknown
}

/** Sends one attempt on the platform and reports its task, so abort and progress reach it. */
export type TaskTransport = (request: RelayRequest, onTask: (task: PlatformTask) => void) => Promise<RelayResponse>

/** Maps the final response back to the platform's way of reporting it (Alipay reports non-2xx on `fail`). */
export type Finish = (response: RelayResponse) => { ok: boolean; value: unknown }

type Callback = (value: never) => void
interface CallOptions {
  url: string
  success?: Callback
  fail?: Callback
  complete?: Callback
  [key: string]: unknown
}

const TASK_METHODS = ['onHeadersReceived', 'offHeadersReceived', 'onProgressUpdate', 'offProgressUpdate', 'onChunkReceived', 'offChunkReceived']
const noop = () => {}
const asIs: Finish = (value) => ({ ok: true, value })

/** A typed error that also reads like a platform failure (`errMsg`), one object per caller. */
export function platformError(api: string, error: TokenRelayError): TokenRelayError & { errMsg: string } {
  const e = Object.create(error)
  e.errMsg = `${api}:fail ${error.code === 'ABORTED' ? 'abort' : error.code}`
  return e
}

/**
 * Runs one platform call through the relay. Returns the platform's task (abort, progress listeners)
 * that is also a promise, so callback and promise callers both work.
 */
export function callThrough(
  relay: TokenRelay,
  kind: RequestKind,
  api: string,
  options: CallOptions,
  transport: TaskTransport,
  finish: Finish = asIs,
): Promise<unknown> & PlatformTask {
  const { success, fail, complete, ...params } = options
  const control = createAbort()
  const listeners: [string, unknown][] = []
  let current: PlatformTask | undefined
  const apply = (task: PlatformTask, method: string, fn: unknown) => {
    if (typeof task[method] === 'function') (task[method] as (fn: unknown) => void)(fn)
  }
  const onTask = (task: PlatformTask) => {
    current = task
    for (const [method, fn] of listeners) apply(task, method, fn)
  }

  const done = relay.send({ ...params, kind, signal: control.signal }, (req) => transport(req, onTask)).then(
    (response) => {
      const out = finish(response)
      if (!out.ok) throw out.value
      return out.value
    },
    (error) => {
      throw isTokenRelayError(error) ? platformError(api, error) : error
    },
  )
  done.then(
    (value) => {
      success && success(value as never)
      complete && complete(value as never)
    },
    (error) => {
      fail && fail(error as never)
      complete && complete(error as never)
    },
  )
  // Callback callers never look at the promise: its rejection is theirs through `fail`.
  if (success || fail || complete) done.catch(noop)

  const task = done as Promise<unknown> & PlatformTask
  task.abort = () => control.abort()
  for (const method of TASK_METHODS) {
    task[method] = (fn: unknown) => {
      listeners.push([method, fn])
      if (current) apply(current, method, fn)
    }
  }
  return task
}
