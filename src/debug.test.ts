// debugTimeline: one line per event of every kind, the time since it started, never a token.
import { describe, expect, it } from 'vitest'
import { SessionExpiredError, TokenRelayError, debugTimeline } from './index.js'
import type { TokenRelay } from './index.js'

/** Just the `on()` debugTimeline uses, with a way to fire events and count the listeners. */
function fakeRelay() {
  const listeners = new Map<string, ((payload: unknown) => void)[]>()
  const relay = {
    on(name: string, fn: (payload: unknown) => void) {
      listeners.set(name, [...(listeners.get(name) || []), fn])
      return () =>
        listeners.set(
          name,
          (listeners.get(name) || []).filter((f) => f !== fn),
        )
    },
  } as unknown as TokenRelay
  return {
    relay,
    emit: (name: string, payload: object) => (listeners.get(name) || []).forEach((fn) => fn(payload)),
    names: () => [...listeners].filter(([, fns]) => fns.length).map(([name]) => name),
  }
}

describe('debugTimeline', () => {
  it('prints every event kind with what it is about and the ms since it started, until stopped', () => {
    let now = 1_000
    const lines: string[] = []
    const { relay, emit, names } = fakeRelay()
    const stop = debugTimeline(relay, { log: (line) => lines.push(String(line)) }, () => now)
    expect(names()).toEqual([
      'change',
      'refresh:start',
      'refresh:success',
      'refresh:failure',
      'queued',
      'replay',
      'session-expired',
      'error',
    ])

    now = 1_005
    emit('change', { credentials: { accessToken: 'secret-token' } })
    now = 1_012
    emit('queued', { request: { url: '/a' } })
    emit('queued', { request: { url: '/b', method: 'POST' } })
    emit('refresh:start', { reason: 'expired', strategy: 'refresh' })
    emit('refresh:success', { strategy: 'login' })
    emit('refresh:failure', { error: new TokenRelayError('REFRESH_TIMEOUT', 'slow') })
    emit('replay', { request: { url: '/a' }, attempt: 1 })
    emit('session-expired', { error: new SessionExpiredError() })
    emit('error', { error: new Error('quota exceeded') })
    expect(lines).toEqual([
      '[tokenrelay +5ms] change ',
      '[tokenrelay +12ms] queued GET /a',
      '[tokenrelay +12ms] queued POST /b',
      '[tokenrelay +12ms] refresh:start refresh (expired)',
      '[tokenrelay +12ms] refresh:success login',
      '[tokenrelay +12ms] refresh:failure REFRESH_TIMEOUT',
      '[tokenrelay +12ms] replay GET /a',
      '[tokenrelay +12ms] session-expired SESSION_EXPIRED',
      '[tokenrelay +12ms] error Error: quota exceeded',
    ])

    stop()
    expect(names()).toEqual([])
  })
})
