// What the engine falls back on when the app gives nothing, and the abort plumbing. Platform-free: every JS
// host has timers and Date.
import { TokenRelayError } from './errors.js'
import type { Clock, Logger } from './options.js'
import type { AbortSignalLike, Credentials, RelayRequest, TokenStorage } from './types.js'

// Every JS host has these; declared here because the build has no DOM or Node types, and looked up at
// call time so fake timers in tests apply. No `globalThis`: older mini program engines lack it.
declare const setTimeout: (fn: () => void, ms: number) => unknown
declare const clearTimeout: (id: unknown) => void
declare const console: Logger

/** Looked up at call time too, so a test's spy on the console applies. */
export const defaultLogger: Logger = { log: (...a) => console.log(...a), warn: (...a) => console.warn(...a) }

export const defaultClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id),
}

export function memoryStorage(): TokenStorage {
  const map: Record<string, string> = {}
  return {
    get: (key) => map[key],
    set: (key, value) => void (map[key] = value),
    remove: (key) => void delete map[key],
  }
}

export const bearer = (request: RelayRequest, credentials: Credentials) =>
  void (request.header!.Authorization = 'Bearer ' + credentials.accessToken)

export const abortError = (signal: AbortSignalLike, cause = signal.reason) => new TokenRelayError('ABORTED', 'request aborted', { cause })

/** Waits for `promise`, or rejects with `ABORTED` as soon as `signal` fires; the promise itself runs on. */
export function abortable<T>(promise: Promise<T>, signal?: AbortSignalLike): Promise<T> {
  return signal
    ? new Promise<T>((resolve, reject) => {
        const onAbort = () => reject(abortError(signal))
        // Subscribe first: a shared refresh that fails after its waiters left must not go unhandled.
        promise.then(resolve, reject).then(() => signal.removeEventListener('abort', onAbort))
        signal.aborted ? onAbort() : signal.addEventListener('abort', onAbort)
      })
    : promise
}
