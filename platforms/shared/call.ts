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

/** A typed error that also reads like a platform failure (`errMsg`), one object per caller. */
export function platformError(api: string, error: TokenRelayError): TokenRelayError & { errMsg: string } {
  const e = Object.create(error)
  e.errMsg = `${api}:fail ${error.code == 'ABORTED' ? 'abort' : error.code}`
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
  { success, fail, complete, ...params }: CallOptions,
  transport: TaskTransport,
  finish: Finish = (value) => ({ ok: true, value }),
): Promise<unknown> & PlatformTask {
  const control = createAbort()
  // Listener calls (onProgressUpdate…) made before an attempt's task exists, replayed on every attempt's task.
  const listeners: [string, unknown][] = []
  let current: PlatformTask | undefined
  const apply = (task: PlatformTask, [method, fn]: [string, unknown]) => {
    if (typeof task[method] == 'function') (task[method] as (fn: unknown) => void)(fn)
  }

  const task = relay
    .send({ ...params, kind, signal: control.signal }, (req) =>
      transport(req, (t) => {
        current = t
        listeners.forEach((l) => apply(t, l))
      }),
    )
    .then(
      (response) => {
        const { ok, value } = finish(response)
        if (!ok) throw value
        return value
      },
      (error) => {
        throw isTokenRelayError(error) ? platformError(api, error) : error
      },
    ) as Promise<unknown> & PlatformTask
  task.then(
    (value) => (success && success(value as never), complete && complete(value as never)),
    (error) => (fail && fail(error as never), complete && complete(error as never)),
  )
  // Callback callers never look at the promise: its rejection is theirs through `fail`.
  if (success || fail || complete) task.catch(() => {})

  task.abort = control.abort
  for (const event of ['HeadersReceived', 'ProgressUpdate', 'ChunkReceived']) {
    for (const method of ['on' + event, 'off' + event]) {
      task[method] = (fn: unknown) => {
        listeners.push([method, fn])
        if (current) apply(current, [method, fn])
      }
    }
  }
  return task
}
