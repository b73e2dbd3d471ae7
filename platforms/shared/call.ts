import type { RelayRequest, RelayResponse, RequestKind, TokenRelay, TokenRelayError } from '../../src/index.js'
import { isTokenRelayError } from '../../src/index.js'
import { settle } from './answer.js'
import type { Callbacks } from './callbacks.js'
import { deliver } from './callbacks.js'
import type { Report } from './report.js'
import { createAbort } from './signal.js'

/** The platform network APIs the relay covers. */
export type NetworkApi = 'request' | 'uploadFile' | 'downloadFile'

/** The engine's request kind of each network API. */
export const KIND_OF: Record<NetworkApi, RequestKind> = { request: 'request', uploadFile: 'upload', downloadFile: 'download' }

/** The platform's task (wx RequestTask, UploadTask…): what a caller may hold and call. */
export interface PlatformTask {
  abort(): void
  [method: string]: unknown
}

/** Sends one attempt on the platform and reports its task, so abort and progress reach it. */
export type TaskTransport = (request: RelayRequest, onTask: (task: PlatformTask) => void) => Promise<RelayResponse>

interface CallOptions extends Callbacks {
  url: string
  [key: string]: unknown
}

/** A typed error that also reads like a platform failure (`errMsg`), one object per caller. */
export function platformError(api: string, error: TokenRelayError): TokenRelayError & { errMsg: string } {
  const e = Object.create(error)
  e.errMsg = `${api}:fail ${error.code === 'ABORTED' ? 'abort' : error.code}`
  return e
}

/**
 * Runs one platform call through the relay. Returns the platform's task (abort, progress listeners)
 * that is also a promise, so callback and promise callers both work. The callbacks get the final
 * answer through `deliver()`: what they throw is reported with `report`.
 */
export function callThrough(
  relay: TokenRelay,
  api: NetworkApi,
  { success, fail, complete, ...params }: CallOptions,
  transport: TaskTransport,
  report: Report,
): Promise<unknown> & PlatformTask {
  const control = createAbort()
  // Listener calls (onProgressUpdate…) made before an attempt's task exists, replayed on every attempt's task.
  const listeners: [string, unknown][] = []
  let current: PlatformTask | undefined
  const apply = (task: PlatformTask, [method, fn]: [string, unknown]) => {
    if (typeof task[method] === 'function') (task[method] as (fn: unknown) => void)(fn)
  }

  const task = relay
    .send({ ...params, kind: KIND_OF[api], signal: control.signal }, (req) =>
      transport(req, (t) => {
        current = t
        listeners.forEach((l) => apply(t, l))
      }),
    )
    .then(
      (response) => {
        const { ok, value } = settle(response)
        if (!ok) throw value
        return value
      },
      (error) => {
        throw isTokenRelayError(error) ? platformError(api, error) : error
      },
    ) as Promise<unknown> & PlatformTask
  const callbacks = { success, fail, complete }
  task.then(
    (value) => deliver(callbacks, true, value, report),
    (error) => deliver(callbacks, false, error, report),
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
