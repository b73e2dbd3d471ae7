import type { AbortSignalLike } from '../../src/index.js'

/** Mini program runtimes have no AbortController: the smallest one the relay needs. */
export function createAbort() {
  let listeners: (() => void)[] = []
  const signal: AbortSignalLike & { aborted: boolean } = {
    aborted: false,
    addEventListener: (_: 'abort', fn: () => void) => void listeners.push(fn),
    removeEventListener: (_: 'abort', fn: () => void) => void (listeners = listeners.filter((l) => l !== fn)),
  }
  return {
    signal,
    abort() {
      if (signal.aborted) return
      signal.aborted = true
      for (const fn of listeners) fn()
      listeners = []
    },
  }
}
