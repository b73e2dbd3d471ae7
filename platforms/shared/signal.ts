import type { AbortSignalLike } from '../../src/index.js'

/** Mini program runtimes have no AbortController: the smallest one the relay needs. */
export function createAbort() {
  const listeners = new Set<() => void>()
  const signal: AbortSignalLike & { aborted: boolean } = {
    aborted: false,
    addEventListener: (_, fn) => void listeners.add(fn),
    removeEventListener: (_, fn) => void listeners.delete(fn),
  }
  return {
    signal,
    abort() {
      if (signal.aborted) return
      signal.aborted = true
      listeners.forEach((fn) => fn())
      listeners.clear()
    },
  }
}
