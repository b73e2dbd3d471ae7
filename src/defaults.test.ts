// What the engine falls back on (console, timers, memory storage, the bearer header) and the abort plumbing.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { abortError, abortable, bearer, defaultClock, defaultLogger, memoryStorage } from './defaults.js'
import type { AbortSignalLike, RelayRequest } from './index.js'

afterEach(() => {
  vi.useRealTimers()
  vi.restoreAllMocks()
})

describe('defaults', () => {
  it('defaultLogger passes every argument to the console, looked up at call time', () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {})
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    defaultLogger.log('a', 1)
    defaultLogger.warn('b', 2)
    expect(log).toHaveBeenCalledWith('a', 1)
    expect(warn).toHaveBeenCalledWith('b', 2)
  })

  it('defaultClock reads Date.now and the timer globals at call time, so fake timers apply', () => {
    vi.useFakeTimers({ now: 12_345 })
    expect(defaultClock.now()).toBe(12_345)
    const fired: string[] = []
    defaultClock.setTimeout(() => fired.push('kept'), 100)
    const cancelled = defaultClock.setTimeout(() => fired.push('cancelled'), 100)
    defaultClock.clearTimeout(cancelled)
    vi.advanceTimersByTime(100)
    expect(fired).toEqual(['kept'])
  })

  it('memoryStorage keeps, returns and removes values per key', () => {
    const storage = memoryStorage()
    expect(storage.get('k')).toBeUndefined()
    storage.set('k', 'v')
    storage.set('other', 'w')
    expect(storage.get('k')).toBe('v')
    storage.remove('k')
    expect(storage.get('k')).toBeUndefined()
    expect(storage.get('other')).toBe('w')
  })

  it('bearer sets Authorization on the request it is given', () => {
    const request: RelayRequest = { url: '/x', header: { Accept: 'json' } }
    expect(bearer(request, { accessToken: 'tok' })).toBeUndefined()
    expect(request.header).toEqual({ Accept: 'json', Authorization: 'Bearer tok' })
  })
})

describe('abort plumbing', () => {
  /** A signal that records who listens. */
  function recordingSignal(aborted = false, reason?: unknown) {
    const listeners = new Set<() => void>()
    const signal: AbortSignalLike & { reason?: unknown } = {
      aborted,
      reason,
      addEventListener: (_, fn) => void listeners.add(fn),
      removeEventListener: (type, fn) => void (type === 'abort' && listeners.delete(fn)),
    }
    return { signal, listeners }
  }

  it('abortError is ABORTED with the signal reason as cause, or the cause it is given', () => {
    const { signal } = recordingSignal(true, 'user left the page')
    expect(abortError(signal)).toMatchObject({ code: 'ABORTED', message: 'request aborted', cause: 'user left the page' })
    const cause = new Error('request:fail abort')
    expect(abortError(signal, cause).cause).toBe(cause)
  })

  it('abortable stops listening once the promise settled, either way', async () => {
    const ok = recordingSignal()
    await expect(abortable(Promise.resolve(1), ok.signal)).resolves.toBe(1)
    expect(ok.listeners.size).toBe(0)
    const failed = recordingSignal()
    await expect(abortable(Promise.reject(new Error('no')), failed.signal)).rejects.toThrow('no')
    await Promise.resolve()
    expect(failed.listeners.size).toBe(0)
  })

  it('abortable without a signal is the promise itself', () => {
    const p = Promise.resolve(1)
    expect(abortable(p)).toBe(p)
  })
})
