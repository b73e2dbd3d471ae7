// The flight room and its classify(): what a refresh or login answer means, how long to wait between
// tries, the circuit breaker under a moving clock, and the app's callbacks that throw.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { API, fakeBackend, get, quiet, relayOnBackend } from '../test/helpers/fake-backend.js'
import { createTokenRelay, isTokenRelayError } from './index.js'
import type { Clock, Credentials, RefreshContext, RelayRequest, TokenRelayOptions } from './index.js'

const setup = (options: TokenRelayOptions = {}) => relayOnBackend({ logger: quiet, ...options })

afterEach(() => {
  vi.useRealTimers()
})

describe('circuit breaker and the clock', () => {
  function clocked() {
    let now = 1_000_000_000_000
    const clock: Clock = { now: () => now, setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (id) => clearTimeout(id as never) }
    return { clock, move: (ms: number) => (now += ms) }
  }

  it('refreshes recorded before the clock was set back two hours leave the window', async () => {
    const { clock, move } = clocked()
    const { relay, backend } = setup({ clock, circuit: { maxRefreshes: 2, windowMs: 60_000 } })
    await relay.setCredentials(backend.login())
    await relay.refresh()
    move(1000)
    await relay.refresh()
    move(-2 * 3600_000)
    await expect(relay.refresh()).resolves.toMatchObject({ accessToken: 'at-4' })
    expect(relay.getCredentials()).not.toBeNull()
  })

  it('the window moves with the clock: refreshes spread over time never trip it', async () => {
    const { clock, move } = clocked()
    const { relay, backend } = setup({ clock, circuit: { maxRefreshes: 2, windowMs: 60_000 } })
    await relay.setCredentials(backend.login())
    for (let i = 0; i < 8; i++) {
      await relay.refresh()
      move(31_000)
    }
    expect(backend.state.refreshCalls).toBe(8)
    expect(relay.getCredentials()).not.toBeNull()
  })

  it('but three inside the window do', async () => {
    const { clock } = clocked()
    const { relay, backend } = setup({ clock, circuit: { maxRefreshes: 2, windowMs: 60_000 } })
    await relay.setCredentials(backend.login())
    await relay.refresh()
    await relay.refresh()
    await expect(relay.refresh()).rejects.toMatchObject({ code: 'SESSION_EXPIRED' })
  })
})

describe("the app's callbacks: real arguments, and a clear error when they throw", () => {
  it('isExpired judges refresh answers with the real request (headers included)', async () => {
    const isExpired = vi.fn((res: { statusCode: number }, req: RelayRequest) => req.header!['X-App'] === 'demo' && res.statusCode === 401)
    const { backend, relay, send } = setup({
      isExpired,
      refresh: async ({ refreshToken, request }) =>
        (await request({ url: '/auth/refresh', method: 'POST', header: { 'X-App': 'demo' }, data: { refreshToken } })).data as Credentials,
    })
    await relay.setCredentials(backend.login())
    backend.expireAll()
    await expect(send(get('/api/x', { header: { 'X-App': 'demo' } }))).resolves.toMatchObject({ statusCode: 200 })
    expect(backend.state.refreshCalls).toBe(1)
    const refreshCall = isExpired.mock.calls.find(([, req]) => req.url.endsWith('/auth/refresh'))!
    expect(refreshCall[1]).toMatchObject({ method: 'POST', header: { 'X-App': 'demo' } })
  })

  it('a throwing isExpired is CONFIG_ERROR with its cause, on requests and refreshes, never retried', async () => {
    const boom = new Error('boom')
    const { backend, relay, send } = setup({
      isExpired: () => {
        throw boom
      },
    })
    await relay.setCredentials(backend.login())
    const e1 = await send(get('/api/x')).catch((e) => e)
    expect(e1).toMatchObject({ code: 'CONFIG_ERROR', cause: boom })
    expect(e1.message).toMatch(/isExpired threw: boom/)
    const e2 = await relay.refresh().catch((e) => e)
    expect(e2).toMatchObject({ code: 'CONFIG_ERROR', cause: boom, transient: false })
    expect(backend.state.refreshCalls).toBe(1)
    expect(relay.getCredentials()?.accessToken).toBe('at-1')
  })

  it('a throwing attach is CONFIG_ERROR; nothing is sent', async () => {
    const transport = vi.fn()
    const relay = createTokenRelay({
      baseURL: API,
      logger: quiet,
      attach: () => {
        throw new Error('no header object')
      },
    })
    await relay.setCredentials({ accessToken: 't' })
    await expect(relay.send(get('/x'), transport)).rejects.toMatchObject({
      code: 'CONFIG_ERROR',
      message: expect.stringMatching(/attach threw/),
    })
    expect(transport).not.toHaveBeenCalled()
  })

  it('an attach that returns a promise is refused at its first use instead of sending without the token', async () => {
    const transport = vi.fn()
    const relay = createTokenRelay({
      baseURL: API,
      logger: quiet,
      attach: (async (req: RelayRequest) => void (req.header!.Authorization = 'late')) as never,
    })
    await relay.setCredentials({ accessToken: 't' })
    await expect(relay.send(get('/x'), transport)).rejects.toMatchObject({
      code: 'CONFIG_ERROR',
      message: expect.stringMatching(/synchronously/),
    })
    expect(() => relay.stamp(get('/x'))).toThrow(/synchronously/)
    expect(transport).not.toHaveBeenCalled()
  })

  it('a throwing decodeToken is reported as CONFIG_ERROR and the token is used as opaque', async () => {
    const errors: unknown[] = []
    const relay = createTokenRelay({
      baseURL: API,
      logger: quiet,
      decodeToken: () => {
        throw new Error('bad jwt')
      },
    })
    relay.on('error', (e) => errors.push(e.error))
    await relay.setCredentials({ accessToken: 't' })
    expect(errors).toHaveLength(1)
    expect(isTokenRelayError(errors[0], 'CONFIG_ERROR')).toBe(true)
    await expect(relay.send(get('/x'), async () => ({ statusCode: 200 }))).resolves.toMatchObject({ statusCode: 200 })
  })
})

describe("errors thrown by the app's own HTTP client inside refresh", () => {
  // The shapes clients reject with: axios < 1.7, ky, got, luch-request, Taro/uni, Alipay my, fetch-like.
  const shapes: [string, (status: number, headers?: Record<string, string>) => unknown][] = [
    ['axios', (status, headers = {}) => Object.assign(new Error('Request failed'), { response: { status, data: {}, headers } })],
    ['ky', (status, headers = {}) => Object.assign(new Error('HTTPError'), { response: { status, headers: new Headers(headers) } })],
    ['got', (status, headers = {}) => Object.assign(new Error('HTTPError'), { response: { statusCode: status, body: '', headers } })],
    ['luch-request / Taro / uni', (status, header = {}) => ({ statusCode: status, data: {}, header })],
    ['my', (status, headers = {}) => ({ error: 19, status, headers })],
  ]

  function throwing(error: unknown, options: TokenRelayOptions = {}) {
    const backend = fakeBackend()
    let calls = 0
    const refresh = async (ctx: RefreshContext) => (++calls === 1 ? Promise.reject(error) : backend.refresh(ctx))
    const relay = createTokenRelay({
      baseURL: API,
      refresh,
      transport: backend.transport,
      logger: quiet,
      retry: { attempts: 2, backoffMs: 1 },
      ...options,
    })
    return { backend, relay, calls: () => calls }
  }

  for (const [client, make] of shapes) {
    it.each([400, 401, 403, 404, 409, 410, 422])(`${client}: %i ends the session after one call`, async (status) => {
      const { backend, relay, calls } = throwing(make(status))
      await relay.setCredentials(backend.login())
      await expect(relay.refresh()).rejects.toMatchObject({ code: 'SESSION_EXPIRED' })
      expect(calls()).toBe(1)
      expect(relay.getCredentials()).toBeNull()
    })

    it.each([408, 429, 500, 503])(`${client}: %i is transient and retried`, async (status) => {
      const { backend, relay, calls } = throwing(make(status))
      await relay.setCredentials(backend.login())
      await expect(relay.refresh()).resolves.toMatchObject({ accessToken: 'at-2' })
      expect(calls()).toBe(2)
    })
  }

  it('a 429 with Retry-After waits that long before the retry, up to maxBackoffMs', async () => {
    vi.useFakeTimers()
    const { backend, relay, calls } = throwing(shapes[0][1](429, { 'retry-after': '2' }), {
      retry: { attempts: 2, backoffMs: 10, maxBackoffMs: 5000 },
    })
    await relay.setCredentials(backend.login())
    const done = relay.refresh()
    await vi.advanceTimersByTimeAsync(1900)
    expect(calls()).toBe(1)
    await vi.advanceTimersByTimeAsync(200)
    expect(calls()).toBe(2)
    await expect(done).resolves.toMatchObject({ accessToken: 'at-2' })
  })

  it('a Retry-After beyond maxBackoffMs is capped', async () => {
    vi.useFakeTimers()
    const { backend, relay, calls } = throwing(shapes[0][1](503, { 'retry-after': '3600' }), {
      retry: { attempts: 2, backoffMs: 10, maxBackoffMs: 1000 },
    })
    await relay.setCredentials(backend.login())
    const done = relay.refresh()
    await vi.advanceTimersByTimeAsync(1001)
    expect(calls()).toBe(2)
    await done
  })

  it.each([404, 409, 410, 422])('ctx.request answered %i ends the session without retries', async (status) => {
    const backend = fakeBackend()
    const seen: string[] = []
    const transport = async (req: RelayRequest) => (
      seen.push(req.url),
      req.url.endsWith('/auth/refresh') ? { statusCode: status } : backend.transport(req)
    )
    const relay = createTokenRelay({
      baseURL: API,
      refresh: backend.refresh,
      transport,
      logger: quiet,
      retry: { attempts: 2, backoffMs: 1 },
    })
    await relay.setCredentials(backend.login())
    await expect(relay.refresh()).rejects.toMatchObject({ code: 'SESSION_EXPIRED' })
    expect(seen).toEqual([`${API}/auth/refresh`])
  })

  it('invalid_grant in the body ends the session whatever the status (401, 200-wrapped)', async () => {
    for (const statusCode of [401, 200]) {
      const backend = fakeBackend()
      const transport = async (req: RelayRequest) =>
        req.url.endsWith('/auth/refresh') ? { statusCode, data: { error: 'invalid_grant' } } : backend.transport(req)
      const relay = createTokenRelay({ baseURL: API, refresh: backend.refresh, transport, logger: quiet })
      await relay.setCredentials(backend.login())
      await expect(relay.refresh()).rejects.toMatchObject({ code: 'SESSION_EXPIRED' })
    }
  })

  it('an expiry-shaped answer from the refresh endpoint (200 with an expiry body code) ends the session without retries', async () => {
    // Only the expiry test can tell: the status is 2xx and there is no `error` field.
    const backend = fakeBackend()
    const seen: string[] = []
    const transport = async (req: RelayRequest) => (
      seen.push(req.url),
      req.url.endsWith('/auth/refresh') ? { statusCode: 200, data: { code: 99997, message: 'TOKEN EXPIRED' } } : backend.transport(req)
    )
    const relay = createTokenRelay({
      baseURL: API,
      refresh: backend.refresh,
      transport,
      expired: { codes: [99997] },
      logger: quiet,
      retry: { attempts: 2, backoffMs: 1 },
    })
    await relay.setCredentials(backend.login())
    await expect(relay.refresh()).rejects.toMatchObject({
      code: 'SESSION_EXPIRED',
      message: expect.stringMatching(/auth\/refresh answered 200/),
    })
    expect(seen).toEqual([`${API}/auth/refresh`])
    expect(relay.getCredentials()).toBeNull()
  })
})

describe('refresh answers of the wrong shape', () => {
  it("accepts RFC 6749's access_token, refresh_token and expires_in as they are", async () => {
    const now = Date.now()
    const { backend, relay } = setup({
      refresh: async () => ({ access_token: 'at-snake', refresh_token: 'rt-snake', expires_in: 7200, token_type: 'Bearer' }) as never,
    })
    await relay.setCredentials(backend.login())
    const creds = await relay.refresh()
    expect(creds).toMatchObject({ accessToken: 'at-snake', refreshToken: 'rt-snake' })
    expect(creds.expiresAt! - now).toBeGreaterThanOrEqual(7200_000)
  })

  it.each([
    ['{ code, data }', { code: 0, data: { accessToken: 'x' } }, /received keys: code, data/],
    ['the whole response', { statusCode: 200, header: {}, data: {} }, /received keys: statusCode, header, data/],
    ['undefined', undefined, /received undefined/],
  ])('%s: REFRESH_FAILED naming the keys received, one warning pointing at the fix, not retried', async (_, answer, message) => {
    const warn = vi.fn()
    let calls = 0
    const { backend, relay } = setup({ refresh: async () => (calls++, answer) as never, logger: { log() {}, warn } })
    await relay.setCredentials(backend.login())
    const error = await relay.refresh().catch((e) => e)
    expect(error.code).toBe('REFRESH_FAILED')
    expect(error.message).toMatch(message)
    await relay.refresh().catch(() => {})
    expect(warn).toHaveBeenCalledTimes(1)
    expect(String(warn.mock.calls[0][0])).toMatch(/must resolve with \{ accessToken/)
    expect(calls).toBe(2)
    expect(relay.getCredentials()?.accessToken).toBe('at-1')
  })
})

describe('the flight against its own clock, epochs and events', () => {
  /** A clock over fake timers that counts the timers still pending. */
  function countingClock() {
    const pending = new Set<unknown>()
    const clock: Clock = {
      now: () => Date.now(),
      setTimeout: (fn, ms) => {
        const id = setTimeout(() => (pending.delete(id), fn()), ms)
        pending.add(id)
        return id
      },
      clearTimeout: (id) => (pending.delete(id), clearTimeout(id as never)),
    }
    return { clock, pending }
  }

  it('a refresh that hangs fails with REFRESH_TIMEOUT naming the bound', async () => {
    vi.useFakeTimers()
    const { relay, backend } = setup({ refresh: () => new Promise<never>(() => {}), refreshTimeoutMs: 50, retry: { attempts: 0 } })
    await relay.setCredentials(backend.login())
    const done = relay.refresh().catch((e) => e)
    await vi.advanceTimersByTimeAsync(50)
    expect(await done).toMatchObject({ code: 'REFRESH_TIMEOUT', message: 'no answer within 50 ms', transient: true })
  })

  it('leaves no timeout pending once the refresh answered, either way', async () => {
    vi.useFakeTimers()
    const { clock, pending } = countingClock()
    const { relay, backend } = setup({ clock, retry: { attempts: 0 } })
    await relay.setCredentials(backend.login())
    await relay.refresh()
    expect(pending.size).toBe(0)
    backend.state.refreshFaults.push('invalid_grant')
    await relay.refresh().catch(() => {})
    expect(pending.size).toBe(0)
  })

  it('new credentials set as the refresh starts: the refresh is never called (it would present a retired token)', async () => {
    const refresh = vi.fn(async () => ({ accessToken: 'from-refresh' }))
    const relay = createTokenRelay({ baseURL: API, refresh, logger: quiet })
    await relay.setCredentials({ accessToken: 'a', refreshToken: 'rt-a' })
    relay.on('refresh:start', () => void relay.setCredentials({ accessToken: 'b', refreshToken: 'rt-b' }))
    await relay.refresh()
    expect(refresh).not.toHaveBeenCalled()
    expect(relay.getCredentials()).toMatchObject({ accessToken: 'b', refreshToken: 'rt-b' })
  })

  it('logged out while backing off between tries: no retry', async () => {
    vi.useFakeTimers()
    const { relay, backend } = setup({ retry: { attempts: 2, backoffMs: 100 } })
    await relay.setCredentials(backend.login())
    backend.state.refreshFaults.push('503', '503')
    const done = relay.refresh().catch((e) => e)
    await vi.advanceTimersByTimeAsync(10) // the first try failed; backing off
    expect(backend.state.refreshCalls).toBe(1)
    await relay.clear()
    await vi.advanceTimersByTimeAsync(1_000)
    expect(backend.state.refreshCalls).toBe(1)
    expect(await done).toMatchObject({ code: 'LOGGED_OUT' })
  })

  it('a refresh that fails for a transient reason never falls back to login', async () => {
    const backend = fakeBackend()
    const login = vi.fn(backend.silentLogin)
    const relay = createTokenRelay({
      baseURL: API,
      refresh: backend.refresh,
      login,
      transport: backend.transport,
      logger: quiet,
      retry: { attempts: 1, backoffMs: 1 },
    })
    await relay.setCredentials(backend.login())
    backend.state.refreshFaults.push('503', '503')
    await expect(relay.refresh()).rejects.toMatchObject({ code: 'REFRESH_FAILED', transient: true })
    expect(login).not.toHaveBeenCalled()
    expect(relay.getCredentials()?.accessToken).toBe('at-1')
  })

  it('a refusal that arrives after clear() does not start a login', async () => {
    const backend = fakeBackend()
    const login = vi.fn(backend.silentLogin)
    const relay = createTokenRelay({ baseURL: API, refresh: backend.refresh, login, transport: backend.transport, logger: quiet })
    const starts: string[] = []
    relay.on('refresh:start', ({ strategy }) => starts.push(strategy))
    await relay.setCredentials(backend.login())
    backend.state.refreshFaults.push('invalid_grant')
    const release = backend.hold('/auth/refresh')
    const done = relay.refresh().catch((e) => e)
    await vi.waitUntil(() => relay.refreshing)
    await relay.clear()
    release()
    expect(await done).toMatchObject({ code: 'LOGGED_OUT' })
    await new Promise((r) => setTimeout(r, 5))
    expect(login).not.toHaveBeenCalled()
    expect(backend.state.loginCalls).toBe(0)
    expect(starts).toEqual(['refresh'])
  })

  it('a refresh whose storage write is overtaken by clear() reports no success', async () => {
    const data = new Map<string, string>()
    let writing: (() => void) | undefined
    const storage = {
      get: (k: string) => data.get(k),
      set: (k: string, v: string) => new Promise<void>((r) => (writing = () => (data.set(k, v), r()))),
      remove: (k: string) => void data.delete(k),
    }
    const { backend, relay } = setup({ storage })
    const outcomes: string[] = []
    relay.on('refresh:success', () => outcomes.push('success'))
    relay.on('refresh:failure', () => outcomes.push('failure'))
    const first = relay.setCredentials(backend.login())
    writing!()
    await first
    writing = undefined
    const done = relay.refresh().catch((e) => e.code)
    await vi.waitUntil(() => writing)
    await relay.clear()
    writing!() // the refresh's write lands after the logout
    expect(await done).toBe('LOGGED_OUT')
    await new Promise((r) => setTimeout(r, 5))
    expect(outcomes).toEqual([])
    expect(relay.getCredentials()).toBeNull()
  })

  it('without a refresh token (and no login) the session ends saying so', async () => {
    const refresh = vi.fn()
    const relay = createTokenRelay({ baseURL: API, logger: quiet, refresh })
    await relay.setCredentials({ accessToken: 'a' })
    await expect(relay.refresh()).rejects.toMatchObject({ code: 'SESSION_EXPIRED', message: 'no refresh token' })
    expect(refresh).not.toHaveBeenCalled()
  })

  it('refresh:start names the reason and the strategy, login included', async () => {
    const backend = fakeBackend()
    const relay = createTokenRelay({
      baseURL: API,
      refresh: backend.refresh,
      login: backend.silentLogin,
      transport: backend.transport,
      logger: quiet,
    })
    const starts: unknown[] = []
    relay.on('refresh:start', (payload) => starts.push(payload))
    await relay.setCredentials(backend.login())
    backend.state.refreshFaults.push('invalid_grant')
    await relay.refresh()
    expect(starts).toEqual([
      { reason: 'manual', strategy: 'refresh' },
      { reason: 'manual', strategy: 'login' },
    ])
  })

  it('a flight overtaken by setCredentials() does not end the next one when it finishes: callers still join the next', async () => {
    const gates: (() => void)[] = []
    let calls = 0
    const refresh = async () => {
      const n = ++calls
      await new Promise<void>((open) => gates.push(open))
      return { accessToken: `from-refresh-${n}`, refreshToken: `rt-${n}` }
    }
    const relay = createTokenRelay({ baseURL: API, refresh, logger: quiet })
    await relay.setCredentials({ accessToken: 'a', refreshToken: 'rt-a' })
    const first = relay.refresh()
    await vi.waitUntil(() => gates.length === 1)
    await relay.setCredentials({ accessToken: 'b', refreshToken: 'rt-b' })
    await first
    const second = relay.refresh()
    await vi.waitUntil(() => gates.length === 2)
    gates[0]() // the overtaken flight finishes now
    await new Promise((r) => setTimeout(r, 5))
    expect(relay.refreshing).toBe(true)
    const third = relay.refresh() // joins the second flight
    gates[1]()
    await expect(Promise.all([second, third])).resolves.toEqual([
      expect.objectContaining({ accessToken: 'from-refresh-2' }),
      expect.objectContaining({ accessToken: 'from-refresh-2' }),
    ])
    expect(calls).toBe(2)
  })
})

describe('circuit breaker edges', () => {
  it('a refresh exactly windowMs after the last one is outside the window', async () => {
    let now = 1_000_000
    const clock: Clock = { now: () => now, setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (id) => clearTimeout(id as never) }
    const { relay, backend } = setup({ clock, circuit: { maxRefreshes: 1, windowMs: 60_000 } })
    await relay.setCredentials(backend.login())
    await relay.refresh()
    now += 60_000
    await expect(relay.refresh()).resolves.toMatchObject({ accessToken: 'at-3' })
  })

  it('tripping names the limit and the window', async () => {
    const { relay, backend } = setup({ circuit: { maxRefreshes: 1, windowMs: 60_000 } })
    await relay.setCredentials(backend.login())
    await relay.refresh()
    await expect(relay.refresh()).rejects.toMatchObject({ code: 'SESSION_EXPIRED', message: 'more than 1 refreshes in 60000 ms' })
  })
})
