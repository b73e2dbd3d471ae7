import { afterEach, describe, expect, it, vi } from 'vitest'
import { API, fakeBackend, get, memoryStore, quiet, relayOnBackend, settleAll } from '../test/helpers/fake-backend.js'
import { SessionExpiredError, TokenRelayError, createTokenRelay, debugTimeline, isTokenRelayError } from './index.js'
import type { Credentials, RefreshContext, RelayRequest } from './index.js'

const setup = relayOnBackend

afterEach(() => {
  vi.useRealTimers()
})

describe('single flight', () => {
  it('20 concurrent expired requests cause exactly one refresh and all replay with the new token', async () => {
    const { backend, relay, send } = setup()
    await relay.setCredentials(backend.login())
    backend.expireAll()
    const { fulfilled, rejected } = await settleAll(Array.from({ length: 20 }, (_, i) => send(get(`/api/${i}`))))
    expect(rejected).toEqual([])
    expect(fulfilled).toHaveLength(20)
    expect(backend.state.refreshCalls).toBe(1)
    expect(backend.hitsWith('at-1')).toBe(20)
    expect(backend.hitsWith('at-2')).toBe(20)
    expect(fulfilled.every((r) => (r.data as { token: string }).token === 'at-2')).toBe(true)
  })

  it('requests started during a refresh wait and go out once, with the new token', async () => {
    const { backend, relay, send } = setup()
    await relay.setCredentials(backend.login())
    backend.expireAll()
    const release = backend.hold('/auth/refresh')
    const first = send(get('/api/first'))
    await vi.waitUntil(() => relay.refreshing)
    const queued = vi.fn()
    relay.on('queued', queued)
    const later = Array.from({ length: 5 }, (_, i) => send(get(`/api/later-${i}`)))
    await new Promise((r) => setTimeout(r, 5))
    expect(backend.state.hits.filter((h) => h.url.startsWith('/api/later'))).toHaveLength(0)
    release()
    const { fulfilled } = await settleAll([first, ...later])
    expect(fulfilled).toHaveLength(6)
    expect(queued).toHaveBeenCalledTimes(5)
    expect(backend.state.hits.filter((h) => h.url.startsWith('/api/later')).map((h) => h.token)).toEqual(Array(5).fill('at-2'))
    expect(backend.state.refreshCalls).toBe(1)
  })
})

describe('token version (late 401)', () => {
  it('an expired answer for an older token is replayed with the current one and starts no refresh', async () => {
    const { backend, relay, send } = setup()
    await relay.setCredentials(backend.login())
    backend.expireAll()
    const release = backend.hold('/api/slow')
    const slow = send(get('/api/slow'))
    await send(get('/api/fast')) // refreshes to at-2
    expect(backend.state.refreshCalls).toBe(1)
    release() // the slow request's 401 for at-1 arrives after the refresh
    const res = await slow
    expect((res.data as { token: string }).token).toBe('at-2')
    expect(backend.state.refreshCalls).toBe(1)
  })
})

describe('strategies', () => {
  it('falls back to silent login under the same single flight when the refresh token is dead', async () => {
    const backend = fakeBackend()
    const login = vi.fn(backend.silentLogin)
    const relay = createTokenRelay({ baseURL: API, refresh: backend.refresh, login, transport: backend.transport })
    await relay.setCredentials(backend.login())
    backend.expireAll()
    backend.state.refreshFaults.push('invalid_grant')
    const { fulfilled } = await settleAll(Array.from({ length: 10 }, () => relay.send(get('/api/x'), backend.transport)))
    expect(fulfilled).toHaveLength(10)
    expect(backend.state.refreshCalls).toBe(1)
    expect(login).toHaveBeenCalledTimes(1)
    expect(backend.state.loginCalls).toBe(1)
  })

  it('logs in before the first request when there are no credentials and a login strategy exists', async () => {
    const { backend, send } = setup({ login: (ctx) => backend.silentLogin(ctx) })
    const { fulfilled } = await settleAll([send(get('/api/a')), send(get('/api/b'))])
    expect(fulfilled).toHaveLength(2)
    expect(backend.state.loginCalls).toBe(1)
    expect(backend.state.hits.filter((h) => h.status === 401)).toHaveLength(0)
  })

  it('ends the session only when refresh and login both fail', async () => {
    const onSessionExpired = vi.fn()
    const { backend, relay, send } = setup({ login: (ctx) => backend.silentLogin(ctx), onSessionExpired })
    await relay.setCredentials(backend.login())
    backend.expireAll()
    backend.state.refreshFaults.push('400')
    backend.state.loginFaults.push('400')
    const { rejected } = await settleAll(Array.from({ length: 5 }, () => send(get('/api/x'))))
    expect(rejected.map((e) => e.code)).toEqual(Array(5).fill('SESSION_EXPIRED'))
    expect(onSessionExpired).toHaveBeenCalledTimes(1)
    expect(relay.getCredentials()).toBeNull()
  })
})

describe('failure classes', () => {
  it.each(['400', '401', '403', 'invalid_grant'] as const)(
    'refresh answered %s: session expired, credentials cleared, every waiter rejected, callback once',
    async (fault) => {
      const onSessionExpired = vi.fn()
      const store = memoryStore()
      const { backend, relay, send } = setup({ onSessionExpired, storage: store })
      await relay.setCredentials(backend.login())
      backend.expireAll()
      backend.state.refreshFaults.push(fault)
      const { rejected, fulfilled } = await settleAll(Array.from({ length: 8 }, () => send(get('/api/x'))))
      expect(fulfilled).toHaveLength(0)
      expect(rejected.every((e) => isTokenRelayError(e, 'SESSION_EXPIRED'))).toBe(true)
      expect(onSessionExpired).toHaveBeenCalledTimes(1)
      expect(backend.state.refreshCalls).toBe(1)
      expect(relay.getCredentials()).toBeNull()
      expect(store.data.size).toBe(0)
      // Later requests do not start another episode.
      await expect(send(get('/api/y'))).rejects.toMatchObject({ code: 'SESSION_EXPIRED' })
      expect(onSessionExpired).toHaveBeenCalledTimes(1)
      expect(backend.state.refreshCalls).toBe(1)
    },
  )

  it('a thrown SessionExpiredError ends the session too', async () => {
    const onSessionExpired = vi.fn()
    const { backend, relay, send } = setup({
      onSessionExpired,
      refresh: async () => {
        throw new SessionExpiredError('server said no')
      },
    })
    await relay.setCredentials(backend.login())
    backend.expireAll()
    await expect(send(get('/api/x'))).rejects.toBeInstanceOf(SessionExpiredError)
    expect(onSessionExpired).toHaveBeenCalledTimes(1)
  })

  it.each(['503', 'network'] as const)('refresh %s: bounded retries, REFRESH_FAILED, credentials kept, no callback', async (fault) => {
    const onSessionExpired = vi.fn()
    const { backend, relay, send } = setup({ onSessionExpired, retry: { attempts: 2, backoffMs: 1 } })
    const creds = backend.login()
    await relay.setCredentials(creds)
    backend.expireAll()
    backend.state.refreshFaults.push(fault, fault, fault, fault)
    const { rejected } = await settleAll(Array.from({ length: 4 }, () => send(get('/api/x'))))
    expect(rejected.map((e) => e.code)).toEqual(Array(4).fill('REFRESH_FAILED'))
    expect(backend.state.refreshCalls).toBe(3) // 1 + 2 retries
    expect(onSessionExpired).not.toHaveBeenCalled()
    expect(relay.getCredentials()?.refreshToken).toBe(creds.refreshToken)
    // The next expiry tries again and succeeds.
    await expect(send(get('/api/x'))).resolves.toMatchObject({ statusCode: 200 })
  })

  it('retries back off exponentially', async () => {
    vi.useFakeTimers()
    const { backend, relay, send } = setup({ retry: { attempts: 3, backoffMs: 100 } })
    await relay.setCredentials(backend.login())
    backend.expireAll()
    backend.state.refreshFaults.push('503', '503', '503')
    const p = send(get('/api/x'))
    await vi.advanceTimersByTimeAsync(99)
    expect(backend.state.refreshCalls).toBe(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(backend.state.refreshCalls).toBe(2)
    await vi.advanceTimersByTimeAsync(199)
    expect(backend.state.refreshCalls).toBe(2)
    await vi.advanceTimersByTimeAsync(1)
    expect(backend.state.refreshCalls).toBe(3)
    await vi.advanceTimersByTimeAsync(400)
    await expect(p).resolves.toMatchObject({ statusCode: 200 })
    expect(backend.state.refreshCalls).toBe(4)
  })

  it('a refresh that hangs ends in REFRESH_TIMEOUT with credentials kept', async () => {
    vi.useFakeTimers()
    const onSessionExpired = vi.fn()
    const { backend, relay, send } = setup({ onSessionExpired, refreshTimeoutMs: 1000, retry: { attempts: 1, backoffMs: 10 } })
    await relay.setCredentials(backend.login())
    backend.expireAll()
    backend.state.refreshFaults.push('hang', 'hang')
    const waiting = settleAll([send(get('/api/a')), send(get('/api/b'))])
    await vi.advanceTimersByTimeAsync(2100)
    const { rejected } = await waiting
    expect(rejected.map((e) => e.code)).toEqual(['REFRESH_TIMEOUT', 'REFRESH_TIMEOUT'])
    expect(backend.state.refreshCalls).toBe(2)
    expect(relay.getCredentials()).not.toBeNull()
    expect(onSessionExpired).not.toHaveBeenCalled()
  })

  it('a refresh that answers without a token fails with REFRESH_FAILED and is not retried', async () => {
    const { backend, relay, send } = setup()
    await relay.setCredentials(backend.login())
    backend.expireAll()
    backend.state.refreshFaults.push('garbage')
    await expect(send(get('/api/x'))).rejects.toMatchObject({ code: 'REFRESH_FAILED', transient: false })
    expect(backend.state.refreshCalls).toBe(1)
  })

  it('ctx.request never loops into a refresh, even when the refresh endpoint answers 401', async () => {
    const { backend, relay, send } = setup()
    await relay.setCredentials(backend.login())
    backend.expireAll()
    backend.state.refreshFaults.push('401')
    await expect(send(get('/api/x'))).rejects.toMatchObject({ code: 'SESSION_EXPIRED' })
    expect(backend.state.refreshCalls).toBe(1)
    expect(backend.state.hits.filter((h) => h.url === '/auth/refresh')[0].token).toBeUndefined()
  })
})

describe('loop protection', () => {
  it('a 401 that persists after a refresh is replayed once, then REPLAY_LIMIT', async () => {
    const { backend, relay, send } = setup()
    await relay.setCredentials(backend.login())
    backend.state.alwaysExpired = true
    await expect(send(get('/api/x'))).rejects.toMatchObject({ code: 'REPLAY_LIMIT' })
    expect(backend.state.refreshCalls).toBe(1)
    expect(backend.state.hits.filter((h) => h.url === '/api/x')).toHaveLength(2)
  })

  it('maxReplays is configurable', async () => {
    const { backend, relay, send } = setup({ maxReplays: 2 })
    await relay.setCredentials(backend.login())
    backend.state.alwaysExpired = true
    await expect(send(get('/api/x'))).rejects.toMatchObject({ code: 'REPLAY_LIMIT' })
    expect(backend.state.hits.filter((h) => h.url === '/api/x')).toHaveLength(3)
  })

  it('the circuit breaker ends the session after too many refreshes in the window', async () => {
    const onSessionExpired = vi.fn()
    const { backend, relay, send } = setup({ onSessionExpired, circuit: { maxRefreshes: 3, windowMs: 60_000 } })
    await relay.setCredentials(backend.login())
    backend.state.alwaysExpired = true
    const codes: string[] = []
    for (let i = 0; i < 6; i++) codes.push(await send(get('/api/x')).catch((e) => e.code))
    expect(codes).toEqual(['REPLAY_LIMIT', 'REPLAY_LIMIT', 'REPLAY_LIMIT', 'SESSION_EXPIRED', 'SESSION_EXPIRED', 'SESSION_EXPIRED'])
    expect(backend.state.refreshCalls).toBe(3)
    expect(onSessionExpired).toHaveBeenCalledTimes(1)
  })
})

describe('refresh ahead of expiry', () => {
  it('requests inside refreshAheadMs wait for one refresh before sending', async () => {
    let now = 1_000_000
    const clock = {
      now: () => now,
      setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
      clearTimeout: (id: unknown) => clearTimeout(id as number),
    }
    const { backend, relay, send } = setup({ clock, refreshAheadMs: 60_000 }, { expiresIn: 600 })
    await relay.setCredentials(backend.login())
    await send(get('/api/early'))
    expect(backend.state.refreshCalls).toBe(0)
    now += 541_000 // 59 s before expiry
    const { fulfilled } = await settleAll(Array.from({ length: 10 }, () => send(get('/api/late'))))
    expect(fulfilled).toHaveLength(10)
    expect(backend.state.refreshCalls).toBe(1)
    expect(backend.hitsWith('at-1')).toBe(1)
    expect(backend.hitsWith('at-2')).toBe(10)
  })

  it('a device clock 10 minutes off causes no refresh storm: expiresIn is measured on arrival', async () => {
    for (const skew of [-600_000, 600_000]) {
      let now = Date.now() + skew
      const clock = { now: () => now, setTimeout, clearTimeout } as never
      const { backend, relay, send } = setup({ clock }, { expiresIn: 3600 })
      await relay.setCredentials(backend.login())
      await settleAll(Array.from({ length: 20 }, () => send(get('/api/x'))))
      now += 1000
      await settleAll(Array.from({ length: 20 }, () => send(get('/api/x'))))
      expect(backend.state.refreshCalls).toBe(0)
    }
  })

  it('a short lifetime does not make every request refresh', async () => {
    const { backend, relay, send } = setup({ refreshAheadMs: 60_000 }, { expiresIn: 30 })
    await relay.setCredentials(backend.login())
    await settleAll(Array.from({ length: 10 }, () => send(get('/api/x'))))
    expect(backend.state.refreshCalls).toBe(0)
  })

  it('a transient failure of an early refresh still sends the request with the current token', async () => {
    let now = 0
    const clock = { now: () => now, setTimeout, clearTimeout } as never
    const { backend, relay, send } = setup({ clock, retry: { attempts: 0 } }, { expiresIn: 100 })
    await relay.setCredentials(backend.login())
    now = 95_000
    backend.state.refreshFaults.push('503')
    await expect(send(get('/api/x'))).resolves.toMatchObject({ statusCode: 200 })
    expect(backend.hitsWith('at-1')).toBe(1)
  })
})

describe('abort', () => {
  it('a waiting request that aborts rejects with ABORTED and is never replayed; the others are unaffected', async () => {
    const { backend, relay, send } = setup()
    await relay.setCredentials(backend.login())
    backend.expireAll()
    const release = backend.hold('/auth/refresh')
    const trigger = send(get('/api/trigger'))
    await vi.waitUntil(() => relay.refreshing)
    const controller = new AbortController()
    const aborted = send(get('/api/aborted', { signal: controller.signal }))
    const other = send(get('/api/other'))
    controller.abort()
    await expect(aborted).rejects.toMatchObject({ code: 'ABORTED' })
    release()
    await expect(trigger).resolves.toMatchObject({ statusCode: 200 })
    await expect(other).resolves.toMatchObject({ statusCode: 200 })
    expect(backend.state.hits.filter((h) => h.url === '/api/aborted')).toHaveLength(0)
  })

  it('a request aborted once queued rejects with ABORTED at once, while the refresh is still held', async () => {
    // The test above aborts in the same tick as send(), before the request reaches the wait: the check at the
    // top of the loop rejects it. Here the abort comes after `queued`, so only the wait's abort listener can.
    const { backend, relay, send } = setup()
    await relay.setCredentials(backend.login())
    backend.expireAll()
    const release = backend.hold('/auth/refresh')
    const trigger = send(get('/api/trigger'))
    await vi.waitUntil(() => relay.refreshing)
    const controller = new AbortController()
    const queued = new Promise<void>((resolve) => relay.on('queued', ({ request }) => request.url.endsWith('/api/aborted') && resolve()))
    let outcome = 'pending'
    send(get('/api/aborted', { signal: controller.signal })).then(
      () => (outcome = 'fulfilled'),
      (error) => (outcome = error.code),
    )
    await queued
    controller.abort()
    await new Promise((r) => setImmediate(r)) // every promise job runs before this; the refresh is held
    expect(outcome).toBe('ABORTED')
    expect(relay.refreshing).toBe(true)
    release()
    await expect(trigger).resolves.toMatchObject({ statusCode: 200 })
    expect(backend.state.refreshCalls).toBe(1)
    expect(backend.state.hits.filter((h) => h.url === '/api/aborted')).toHaveLength(0)
  })

  it('aborting the request that started the refresh does not cancel the refresh', async () => {
    const { backend, relay, send } = setup()
    await relay.setCredentials(backend.login())
    backend.expireAll()
    const release = backend.hold('/auth/refresh')
    const controller = new AbortController()
    const trigger = send(get('/api/trigger', { signal: controller.signal }))
    await vi.waitUntil(() => relay.refreshing)
    const others = Array.from({ length: 3 }, () => send(get('/api/other')))
    controller.abort()
    await expect(trigger).rejects.toMatchObject({ code: 'ABORTED' })
    release()
    const { fulfilled } = await settleAll(others)
    expect(fulfilled).toHaveLength(3)
    expect(backend.state.refreshCalls).toBe(1)
    expect(backend.state.hits.filter((h) => h.url === '/api/trigger')).toHaveLength(1)
  })

  it('an already aborted signal never reaches the transport', async () => {
    const { backend, relay, send } = setup()
    await relay.setCredentials(backend.login())
    await expect(send(get('/api/x', { signal: AbortSignal.abort() }))).rejects.toMatchObject({ code: 'ABORTED' })
    expect(backend.state.hits).toHaveLength(0)
  })
})

describe('storage', () => {
  it('rotated credentials are written before any replay (slow async storage)', async () => {
    const data = new Map<string, string>()
    const storage = {
      get: (k: string) => data.get(k),
      set: (k: string, v: string) => new Promise<void>((r) => setTimeout(() => (data.set(k, v), r()), 20)),
      remove: async (k: string) => void data.delete(k),
    }
    const { backend, relay } = setup({ storage })
    await relay.setCredentials(backend.login())
    backend.expireAll()
    const order: string[] = []
    const transport = async (req: RelayRequest) => {
      if (req.url.endsWith('/api/x'))
        order.push(`send ${req.header?.Authorization} stored=${JSON.parse(data.get('tokenrelay')!).accessToken}`)
      return backend.transport(req)
    }
    await relay.send(get('/api/x'), transport)
    expect(order).toEqual(['send Bearer at-1 stored=at-1', 'send Bearer at-2 stored=at-2'])
  })

  it('reads stored credentials at start, sync or async', async () => {
    for (const async of [false, true]) {
      const backend = fakeBackend()
      const value = JSON.stringify(backend.login())
      const storage = { get: () => (async ? Promise.resolve(value) : value), set() {}, remove() {} }
      const relay = createTokenRelay({ baseURL: API, storage })
      await relay.ready
      expect(relay.getCredentials()?.accessToken).toBe('at-1')
    }
  })

  it.each(['not json', '{"refreshToken":"x"}', '{"accessToken":42}', 'null', '{"APDataStorage":"legacy"}'])(
    'a corrupt stored value (%s) means logged out, without throwing',
    async (raw) => {
      const relay = createTokenRelay({ baseURL: API, storage: { get: () => raw, set() {}, remove() {} } })
      await relay.ready
      expect(relay.getCredentials()).toBeNull()
    },
  )

  it('a storage that throws on read is survived', async () => {
    const relay = createTokenRelay({
      baseURL: API,
      storage: {
        get: () => {
          throw new Error('broken')
        },
        set() {},
        remove() {},
      },
    })
    await relay.ready
    expect(relay.getCredentials()).toBeNull()
  })

  it('a throwing write keeps the new credentials in memory and emits error', async () => {
    const { backend, relay, send } = setup({
      storage: {
        get: () => undefined,
        set: () => {
          throw new Error('quota exceeded')
        },
        remove() {},
      },
    })
    const errors: unknown[] = []
    relay.on('error', (e) => errors.push(e.error))
    await relay.setCredentials(backend.login())
    backend.expireAll()
    await expect(send(get('/api/x'))).resolves.toMatchObject({ statusCode: 200 })
    expect(relay.getCredentials()?.accessToken).toBe('at-2')
    expect(errors).toHaveLength(2)
    expect(String(errors[0])).toContain('quota')
  })
})

describe('clear()', () => {
  it('during a refresh discards its result and rejects waiting requests with LOGGED_OUT', async () => {
    const store = memoryStore()
    const { backend, relay, send } = setup({ storage: store })
    await relay.setCredentials(backend.login())
    backend.expireAll()
    const release = backend.hold('/auth/refresh')
    const waiting = settleAll(Array.from({ length: 3 }, () => send(get('/api/x'))))
    await vi.waitUntil(() => relay.refreshing)
    await relay.clear()
    release()
    const { rejected } = await waiting
    expect(rejected.map((e) => e.code)).toEqual(['LOGGED_OUT', 'LOGGED_OUT', 'LOGGED_OUT'])
    await new Promise((r) => setTimeout(r, 5))
    expect(relay.getCredentials()).toBeNull()
    expect(store.data.size).toBe(0)
    expect(backend.state.hits.filter((h) => h.url === '/api/x')).toHaveLength(3)
  })

  it('during the storage write of a refresh leaves nothing stored', async () => {
    const data = new Map<string, string>()
    let writing: (() => void) | undefined
    const storage = {
      get: (k: string) => data.get(k),
      set: (k: string, v: string) => new Promise<void>((r) => (writing = () => (data.set(k, v), r()))),
      remove: (k: string) => void data.delete(k),
    }
    const { backend, relay, send } = setup({ storage })
    const first = relay.setCredentials(backend.login())
    writing!()
    await first
    backend.expireAll()
    writing = undefined
    const waiting = send(get('/api/x')).catch((e) => e.code)
    await vi.waitUntil(() => writing)
    await relay.clear()
    writing!() // the refresh's write lands after the logout
    expect(await waiting).toBe('LOGGED_OUT')
    await new Promise((r) => setTimeout(r, 5))
    expect(data.size).toBe(0)
    expect(relay.getCredentials()).toBeNull()
  })

  it('setCredentials during a refresh wins over the refresh result', async () => {
    const { backend, relay, send } = setup()
    await relay.setCredentials(backend.login())
    backend.expireAll()
    const release = backend.hold('/auth/refresh')
    const waiting = send(get('/api/x'))
    await vi.waitUntil(() => relay.refreshing)
    const fresh = backend.login() // at-2, issued by a login elsewhere
    await relay.setCredentials(fresh)
    release()
    await expect(waiting).resolves.toMatchObject({ data: { token: 'at-2' } })
    await new Promise((r) => setTimeout(r, 5))
    expect(relay.getCredentials()?.accessToken).toBe('at-2')
  })
})

describe('exemptions and origins', () => {
  it('auth: false gets no token and never refreshes', async () => {
    const { backend, relay, send } = setup()
    await relay.setCredentials(backend.login())
    backend.expireAll()
    const res = await send(get('/api/public', { auth: false }))
    expect(res.statusCode).toBe(401)
    expect(backend.state.hits[0].token).toBeUndefined()
    expect(backend.state.refreshCalls).toBe(0)
  })

  it('relative URLs resolve against baseURL and get the token', async () => {
    const { backend, relay } = setup()
    await relay.setCredentials(backend.login())
    const seen: RelayRequest[] = []
    await relay.send({ url: '/api/rel' }, async (req) => (seen.push(req), backend.transport(req)))
    expect(seen[0].url).toBe(`${API}/api/rel`)
    expect(seen[0].header?.Authorization).toBe('Bearer at-1')
  })

  it.each([
    'https://api.test.evil.com/x',
    'https://api.test@evil.com/x',
    'http://api.test/x',
    'https://api.test:8443/x',
    'wss://api.test/x',
    '//evil.com/x',
    'https://evil.com/https://api.test/',
  ])('%s gets no token and its 401 starts no refresh', async (url) => {
    const { backend, relay } = setup()
    await relay.setCredentials(backend.login())
    const seen: RelayRequest[] = []
    const res = await relay.send({ url, method: 'GET' }, async (req) => {
      seen.push(req)
      return { statusCode: 401, header: {} }
    })
    expect(res.statusCode).toBe(401)
    expect(seen).toHaveLength(1)
    expect(seen[0].header?.Authorization).toBeUndefined()
    expect(backend.state.refreshCalls).toBe(0)
  })

  it('origins adds hosts by exact origin or RegExp; default ports are the same origin', async () => {
    const relay = createTokenRelay({ baseURL: 'https://api.test/v1', origins: ['https://up.test:8443', /^https:\/\/[a-z]+\.cdn\.test$/] })
    expect(relay.isAllowed('https://api.test:443/a')).toBe(true)
    expect(relay.isAllowed('HTTPS://API.TEST/a')).toBe(true)
    expect(relay.isAllowed('users/me')).toBe(true)
    expect(relay.isAllowed('https://up.test:8443/f')).toBe(true)
    expect(relay.isAllowed('https://up.test/f')).toBe(false)
    expect(relay.isAllowed('https://img.cdn.test/a.png')).toBe(true)
    expect(relay.isAllowed('https://img.cdn.test.evil.com/a.png')).toBe(false)
  })

  it('with origins but no baseURL, same-origin relative URLs are allowed and //host is not', () => {
    const relay = createTokenRelay({ origins: ['https://api.test'] })
    expect(relay.isAllowed('/api/x')).toBe(true)
    expect(relay.isAllowed('//evil.com/x')).toBe(false)
    expect(relay.isAllowed('/\\evil.com/x')).toBe(false)
    expect(relay.isAllowed('javascript:alert(1)')).toBe(false)
  })

  it('with neither baseURL nor origins, attaches everywhere and warns once', async () => {
    const warn = vi.fn()
    const relay = createTokenRelay({ logger: { log() {}, warn } })
    await relay.setCredentials({ accessToken: 't' })
    const seen: RelayRequest[] = []
    for (const url of ['https://a.test/', 'https://b.test/']) {
      await relay.send({ url }, async (req) => (seen.push(req), { statusCode: 200 }))
    }
    expect(seen.map((r) => r.header?.Authorization)).toEqual(['Bearer t', 'Bearer t'])
    expect(warn).toHaveBeenCalledTimes(1)
  })

  it('a custom attach and a custom isExpired are used', async () => {
    const { backend, relay } = setup({
      attach: (req, c) => void (req.header!['X-Token'] = c.accessToken),
      isExpired: (res) => (res.data as { errno?: number })?.errno === 4001,
      refresh: async () => ({ accessToken: 'two' }),
    })
    await relay.setCredentials({ accessToken: 'one', refreshToken: 'r' })
    let calls = 0
    const res = await relay.send(get('/api/x'), async (req) => ({
      statusCode: 200,
      data: { errno: ++calls === 1 ? 4001 : 0, token: req.header!['X-Token'] },
    }))
    expect(res.data).toEqual({ errno: 0, token: 'two' })
    void backend
  })
})

describe('body-code expiry', () => {
  it('a 200 with an expiry code behaves like a 401', async () => {
    const { backend, relay, send } = setup({ expired: { codes: ['99997'] } }, { mode: 'body' })
    await relay.setCredentials(backend.login())
    backend.expireAll()
    const { fulfilled } = await settleAll(Array.from({ length: 5 }, () => send(get('/api/x'))))
    expect(fulfilled.map((r) => (r.data as { code: number }).code)).toEqual([0, 0, 0, 0, 0])
    expect(backend.state.refreshCalls).toBe(1)
  })
})

describe('stamp() and receive(): interceptor platforms', () => {
  it('a request stamped logged out with no way to log in costs one round trip: its 401 ends the session', async () => {
    const backend = fakeBackend()
    const relay = createTokenRelay({ baseURL: API, transport: backend.transport, logger: { log() {}, warn() {} } })
    const stamped = relay.stamp({ url: '/api/x' })
    const response = await backend.transport(stamped.request)
    await expect(relay.receive({ url: '/api/x' }, backend.transport, { ...stamped, response })).rejects.toMatchObject({
      code: 'SESSION_EXPIRED',
    })
    expect(backend.state.hits.map((h) => [h.url, h.token])).toEqual([['/api/x', undefined]])
  })

  it('a request stamped while a refresh runs goes out again once, with the new token, spending no replay', async () => {
    const { backend, relay } = setup()
    await relay.setCredentials(backend.login())
    backend.expireAll()
    const release = backend.hold('/auth/refresh')
    const refreshing = relay.refresh()
    await vi.waitUntil(() => relay.refreshing)
    const stamped = relay.stamp({ url: '/api/x' })
    expect(stamped.request.header?.Authorization).toBeUndefined()
    const response = await backend.transport(stamped.request)
    release()
    await refreshing
    await expect(relay.receive({ url: '/api/x' }, backend.transport, { ...stamped, response })).resolves.toMatchObject({ statusCode: 200 })
    expect(backend.state.hits.filter((h) => h.url === '/api/x').map((h) => h.token)).toEqual([undefined, 'at-2'])
    expect(backend.state.refreshCalls).toBe(1)
  })

  it('stamp attaches the token only when allowed, and none while a refresh runs', async () => {
    const { backend, relay, send } = setup()
    await relay.setCredentials(backend.login())
    expect(relay.stamp({ url: '/api/x' }).request).toMatchObject({ url: `${API}/api/x`, header: { Authorization: 'Bearer at-1' } })
    expect(relay.stamp({ url: 'https://evil.test/x' }).request.header).toEqual({})
    expect(relay.stamp({ url: '/api/x', auth: false }).request.header).toEqual({})
    backend.expireAll()
    const release = backend.hold('/auth/refresh')
    const pending = send(get('/api/x'))
    await vi.waitUntil(() => relay.refreshing)
    expect(relay.stamp({ url: '/api/y' }).request.header).toEqual({})
    release()
    await pending
  })

  it('10 responses that arrived expired are replayed after exactly one refresh', async () => {
    const { backend, relay } = setup()
    await relay.setCredentials(backend.login())
    backend.expireAll()
    const stamped = Array.from({ length: 10 }, (_, i) => relay.stamp({ url: `/api/${i}` }))
    const responses = await Promise.all(stamped.map((s) => backend.transport(s.request)))
    expect(responses.every((r) => relay.isExpired(r, {} as RelayRequest))).toBe(true)
    const results = await Promise.all(
      stamped.map((s, i) => relay.receive({ url: `/api/${i}` }, backend.transport, { ...s, response: responses[i] })),
    )
    expect(results.map((r) => r.statusCode)).toEqual(Array(10).fill(200))
    expect(backend.state.refreshCalls).toBe(1)
    expect(backend.hitsWith('at-2')).toBe(10)
  })

  it('a first response for an older version is replayed without a refresh; a fine one is returned as is', async () => {
    const { backend, relay } = setup()
    await relay.setCredentials(backend.login())
    const old = relay.stamp({ url: '/api/late' })
    backend.expireAll()
    const lateResponse = await backend.transport(old.request)
    await relay.refresh()
    const res = await relay.receive({ url: '/api/late' }, backend.transport, { ...old, response: lateResponse })
    expect(res.data).toMatchObject({ token: 'at-2' })
    expect(backend.state.refreshCalls).toBe(1)
    const ok = { statusCode: 200, data: 'fine' }
    await expect(relay.receive({ url: '/api/z' }, backend.transport, { ...relay.stamp({ url: '/api/z' }), response: ok })).resolves.toBe(ok)
  })
})

describe('wouldWait(): what an interceptor platform asks before letting a request go', () => {
  it('true exactly when send() would hold the request: storage unread, refresh running or due, cold start with a login', async () => {
    const backend = fakeBackend()
    let now = 1_000_000
    const clock = { now: () => now, setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms), clearTimeout }
    let read: (value: string) => void = () => {}
    const storage = { get: () => new Promise<string>((r) => (read = r)), set() {}, remove() {} }
    const relay = createTokenRelay({ baseURL: API, refresh: backend.refresh, transport: backend.transport, storage, clock, logger: quiet })
    const api = { url: '/api/x' }
    expect(relay.wouldWait(api)).toBe(true) // the stored pair is not read yet
    expect(relay.wouldWait({ ...api, auth: false })).toBe(false)
    expect(relay.wouldWait({ url: 'https://evil.test/x' })).toBe(false)
    read(JSON.stringify({ accessToken: 'at-1', refreshToken: 'rt-1', expiresAt: now + 100_000 }))
    await relay.ready
    expect(relay.wouldWait(api)).toBe(false)
    now += 50_000 // 50 s left: inside the 60 s refresh-ahead window
    expect(relay.wouldWait(api)).toBe(true)
    expect(relay.wouldWait({ ...api, auth: false })).toBe(false)
    now -= 50_000
    const release = backend.hold('/auth/refresh')
    const refreshing = relay.refresh().catch(() => {})
    await vi.waitUntil(() => relay.refreshing)
    expect(relay.wouldWait(api)).toBe(true)
    release()
    await refreshing
    await relay.clear()
    expect(relay.wouldWait(api)).toBe(false) // logged out, no login strategy: it goes out without a token

    const cold = createTokenRelay({ baseURL: API, login: async () => backend.login(), logger: quiet })
    expect(cold.wouldWait(api)).toBe(true) // no credentials, a way to log in: the first request waits for it
    await cold.clear()
    expect(cold.wouldWait(api)).toBe(false) // after a logout, no silent login until new credentials arrive
  })
})

describe('API', () => {
  it('setCredentials rejects bad input with a TypeError and keeps the old credentials', async () => {
    const { backend, relay } = setup()
    await relay.setCredentials(backend.login())
    expect(() => relay.setCredentials({} as never)).toThrow(TypeError)
    expect(() => relay.setCredentials({ accessToken: '' })).toThrow(TypeError)
    expect(relay.getCredentials()?.accessToken).toBe('at-1')
  })

  it('refresh() refreshes once for concurrent callers and returns the new credentials', async () => {
    const { backend, relay } = setup()
    await relay.setCredentials(backend.login())
    const [a, b] = await Promise.all([relay.refresh(), relay.refresh()])
    expect(a.accessToken).toBe('at-2')
    expect(b.accessToken).toBe('at-2')
    expect(backend.state.refreshCalls).toBe(1)
  })

  it('keeps the refresh token when the server does not rotate it', async () => {
    const { relay, backend } = setup({ refresh: async () => ({ accessToken: 'new', expiresIn: 60 }) })
    await relay.setCredentials({ accessToken: 'old', refreshToken: 'keep-me' })
    await relay.refresh()
    expect(relay.getCredentials()).toMatchObject({ accessToken: 'new', refreshToken: 'keep-me' })
    void backend
  })

  it('emits events in order and off() unsubscribes', async () => {
    const { backend, relay, send } = setup()
    const seen: string[] = []
    for (const name of ['refresh:start', 'refresh:success', 'refresh:failure', 'queued', 'replay', 'session-expired'] as const) {
      relay.on(name, () => seen.push(name))
    }
    const off = relay.on('replay', () => seen.push('replay-2'))
    off()
    await relay.setCredentials(backend.login())
    backend.expireAll()
    await send(get('/api/x'))
    expect(seen).toEqual(['refresh:start', 'refresh:success', 'replay'])
  })

  it('debugTimeline prints a compact timeline without tokens, until stopped', async () => {
    const lines: string[] = []
    const { backend, relay, send } = setup()
    const stop = debugTimeline(relay, { log: (s: unknown) => lines.push(String(s)) })
    await relay.setCredentials(backend.login())
    backend.expireAll()
    await send(get('/api/x'))
    expect(lines.map((l) => l.replace(/\+\d+ms/, '+Nms'))).toEqual([
      '[tokenrelay +Nms] change ',
      '[tokenrelay +Nms] refresh:start refresh (expired)',
      '[tokenrelay +Nms] change ',
      '[tokenrelay +Nms] refresh:success refresh',
      `[tokenrelay +Nms] replay GET ${API}/api/x`,
    ])
    expect(lines.join('\n')).not.toContain('at-')
    stop()
    await relay.clear()
    expect(lines).toHaveLength(5)
  })

  it('TokenRelayError carries code, cause and a cross-realm brand', () => {
    const cause = new Error('x')
    const e = new TokenRelayError('REFRESH_FAILED', 'boom', { cause, transient: true })
    expect(e).toBeInstanceOf(Error)
    expect(e.cause).toBe(cause)
    expect(isTokenRelayError(e)).toBe(true)
    expect(isTokenRelayError({ ...e, __tokenRelayError: true, code: 'ABORTED' }, 'ABORTED')).toBe(true)
    expect(isTokenRelayError(new Error('x'))).toBe(false)
    expect(new SessionExpiredError().code).toBe('SESSION_EXPIRED')
  })
})

describe('the request loop, edge by edge', () => {
  it('refresh gets a copy of the credentials (null before a login), and ctx.request marks its call auth: false', async () => {
    const backend = fakeBackend()
    const contexts: unknown[] = []
    const seen: RelayRequest[] = []
    const transport = (req: RelayRequest) => (seen.push(req), backend.transport(req))
    const relay = createTokenRelay({
      baseURL: API,
      transport,
      logger: quiet,
      retry: { attempts: 0 },
      refresh: async (ctx) => {
        contexts.push({ ...ctx.credentials })
        ;(ctx.credentials as { accessToken: string }).accessToken = 'changed by the app'
        await ctx.request({ url: '/auth/refresh', method: 'POST', data: { refreshToken: 'not-it' } }) // answered 400 invalid_grant
        return {} as Credentials
      },
      login: async (ctx) => (contexts.push(ctx.credentials), backend.silentLogin(ctx)),
    })
    await relay.refresh() // logged out: login
    await relay.refresh() // refused: falls back to login, which sees the credentials as they were
    const at1 = { accessToken: 'at-1', refreshToken: 'rt-1', expiresAt: expect.any(Number) }
    expect(contexts).toEqual([null, at1, at1])
    expect(seen.map((r) => [r.url, r.auth])).toEqual([
      [`${API}/auth/login`, false],
      [`${API}/auth/refresh`, false],
      [`${API}/auth/login`, false],
    ])
  })

  it("the app changing ctx.credentials leaves the relay's own untouched", async () => {
    const relay = createTokenRelay({
      baseURL: API,
      logger: quiet,
      retry: { attempts: 0 },
      refresh: async (ctx) => {
        ;(ctx.credentials as { accessToken: string }).accessToken = 'changed by the app'
        throw new Error('offline')
      },
    })
    await relay.setCredentials({ accessToken: 'mine', refreshToken: 'rt' })
    await expect(relay.refresh()).rejects.toMatchObject({ code: 'REFRESH_FAILED' })
    expect(relay.getCredentials()?.accessToken).toBe('mine')
  })

  it('ctx.request with no transport yet: REFRESH_FAILED saying where to pass one, not retried', async () => {
    const refresh = vi.fn(async ({ request }: RefreshContext) => (await request({ url: '/auth/refresh' })).data as Credentials)
    const relay = createTokenRelay({ baseURL: API, refresh, logger: quiet })
    await relay.setCredentials({ accessToken: 'a', refreshToken: 'rt' })
    await expect(relay.refresh()).rejects.toMatchObject({
      code: 'REFRESH_FAILED',
      transient: false,
      message: 'no transport: pass `transport` to createTokenRelay',
    })
    expect(refresh).toHaveBeenCalledTimes(1)
  })

  it('ctx.request that fails on the network is transient, names the URL and keeps the cause', async () => {
    const down = new Error('request:fail')
    const relay = createTokenRelay({
      baseURL: API,
      logger: quiet,
      retry: { attempts: 0 },
      transport: async () => Promise.reject(down),
      refresh: async ({ request }) => (await request({ url: '/auth/refresh' })).data as Credentials,
    })
    await relay.setCredentials({ accessToken: 'a', refreshToken: 'rt' })
    await expect(relay.refresh()).rejects.toMatchObject({
      code: 'REFRESH_FAILED',
      transient: true,
      message: `${API}/auth/refresh failed`,
      cause: down,
    })
  })

  it('requests queued behind an expiry refresh that fails transiently reject with it and are never sent', async () => {
    const { backend, relay, send } = setup({ retry: { attempts: 0 } })
    await relay.setCredentials(backend.login())
    backend.expireAll()
    backend.state.refreshFaults.push('503')
    const release = backend.hold('/auth/refresh')
    const trigger = send(get('/api/trigger'))
    await vi.waitUntil(() => relay.refreshing)
    const queued = send(get('/api/queued'))
    release()
    await expect(trigger).rejects.toMatchObject({ code: 'REFRESH_FAILED', transient: true })
    await expect(queued).rejects.toMatchObject({ code: 'REFRESH_FAILED', transient: true })
    expect(backend.state.hits.filter((h) => h.url === '/api/queued')).toEqual([])
  })

  it('near expiry with a refresh strategy but no refresh token (and no login): sent as is, no refresh', async () => {
    let now = 1_000_000
    const clock = { now: () => now, setTimeout, clearTimeout } as never
    const refresh = vi.fn()
    const relay = createTokenRelay({ baseURL: API, logger: quiet, clock, refresh })
    await relay.setCredentials({ accessToken: 'a', expiresIn: 100 })
    now += 90_000
    await expect(relay.send(get('/api/x'), async () => ({ statusCode: 200 }))).resolves.toMatchObject({ statusCode: 200 })
    expect(refresh).not.toHaveBeenCalled()
    expect(relay.getCredentials()?.accessToken).toBe('a')
  })

  it('a transport that throws, on a request without a signal, rejects with what it threw', async () => {
    const down = new Error('request:fail timeout')
    const relay = createTokenRelay({ baseURL: API, logger: quiet })
    await expect(relay.send(get('/api/x'), async () => Promise.reject(down))).rejects.toBe(down)
  })

  it('a 401 that arrives after an account switch (by sub) rejects LOGGED_OUT, names why, and is no replay', async () => {
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
    const jwt = (claims: object) => `${b64({ alg: 'none' })}.${b64(claims)}.sig`
    const relay = createTokenRelay({
      baseURL: API,
      logger: quiet,
      decodeToken: (t) => JSON.parse(Buffer.from(t.split('.')[1], 'base64url').toString()),
    })
    const replays = vi.fn()
    relay.on('replay', replays)
    await relay.setCredentials({ accessToken: jwt({ sub: 'alice' }) })
    let answer!: (r: { statusCode: number }) => void
    const pending = relay.send(get('/api/x'), () => new Promise((r) => (answer = r)))
    await vi.waitUntil(() => answer)
    await relay.setCredentials({ accessToken: jwt({ sub: 'bob' }) })
    answer({ statusCode: 401 })
    await expect(pending).rejects.toMatchObject({ code: 'LOGGED_OUT', message: 'the session this request started in has ended' })
    expect(replays).not.toHaveBeenCalled()
  })

  it('a request that went out logged out and came back in a later session is bound to that session', async () => {
    const backend = fakeBackend()
    const sent: (string | undefined)[] = []
    let answer!: (r: { statusCode: number }) => void
    const transport = (req: RelayRequest) => {
      sent.push(req.header?.Authorization)
      return sent.length === 1 ? new Promise<{ statusCode: number }>((r) => (answer = r)) : backend.transport(req)
    }
    // Logged in by the app itself after the request was sent: it went out with its token.
    const relay = createTokenRelay({ baseURL: API, logger: quiet })
    await relay.setCredentials({ accessToken: 'first' })
    await relay.clear()
    await relay.setCredentials({ accessToken: 'second' })
    const pending = relay.send(get('/api/x'), transport)
    await vi.waitUntil(() => answer)
    await relay.clear()
    await relay.setCredentials({ accessToken: 'third' })
    answer({ statusCode: 401 })
    await expect(pending).rejects.toMatchObject({ code: 'LOGGED_OUT' })
    expect(sent).toEqual(['Bearer second'])
  })

  it('a request sent logged out is bound to the session it first goes out in (after a login)', async () => {
    const backend = fakeBackend()
    const sent: (string | undefined)[] = []
    let answer!: (r: { statusCode: number }) => void
    const transport = (req: RelayRequest) => {
      if (!req.url.endsWith('/api/x')) return backend.transport(req)
      sent.push(req.header?.Authorization)
      return sent.length === 1 ? new Promise<{ statusCode: number }>((r) => (answer = r)) : backend.transport(req)
    }
    const relay = createTokenRelay({ baseURL: API, logger: quiet, login: backend.silentLogin, transport })
    const pending = relay.send(get('/api/x'), transport) // logs in first, then goes out with at-1
    await vi.waitUntil(() => answer)
    await relay.clear()
    await relay.setCredentials({ accessToken: 'someone-else' })
    answer({ statusCode: 401 })
    await expect(pending).rejects.toMatchObject({ code: 'LOGGED_OUT' })
    expect(sent).toEqual(['Bearer at-1'])
  })

  it("a request sent logged out whose session ended meanwhile rejects with the session's end, without going out again", async () => {
    const sent: (string | undefined)[] = []
    let answer!: (r: { statusCode: number }) => void
    const transport = (req: RelayRequest) => {
      sent.push(req.header?.Authorization)
      return sent.length === 1 ? new Promise<{ statusCode: number }>((r) => (answer = r)) : Promise.resolve({ statusCode: 401 })
    }
    const refused = new SessionExpiredError('refused')
    const relay = createTokenRelay({
      baseURL: API,
      logger: quiet,
      refresh: async () => {
        throw refused
      },
    })
    const pending = relay.send(get('/api/x'), transport) // no credentials, no login: goes out without a token
    await vi.waitUntil(() => answer)
    await relay.setCredentials({ accessToken: 'a', refreshToken: 'rt' })
    await relay.refresh().catch(() => {}) // refused: the session ends
    answer({ statusCode: 401 })
    await expect(pending).rejects.toBe(refused)
    expect(sent).toEqual([undefined])
  })

  it('a request stamped while a login is due goes out once more after the login, with the token, spending no replay', async () => {
    const backend = fakeBackend()
    const replays = vi.fn()
    const relay = createTokenRelay({ baseURL: API, logger: quiet, login: backend.silentLogin, transport: backend.transport, maxReplays: 0 })
    relay.on('replay', replays)
    const stamped = relay.stamp({ url: '/api/x' })
    expect(stamped.version).toBe(-1)
    const response = await backend.transport(stamped.request)
    expect(response.statusCode).toBe(401)
    await expect(relay.receive({ url: '/api/x' }, backend.transport, { ...stamped, response })).resolves.toMatchObject({ statusCode: 200 })
    expect(backend.state.loginCalls).toBe(1)
    expect(backend.state.hits.filter((h) => h.url === '/api/x').map((h) => h.token)).toEqual([undefined, 'at-1'])
    expect(replays).not.toHaveBeenCalled()
  })

  it('REPLAY_LIMIT names the URL and the replays, and carries the last answer', async () => {
    const { backend, relay, send } = setup()
    await relay.setCredentials(backend.login())
    backend.state.alwaysExpired = true
    const error = await send(get('/api/x')).catch((e) => e)
    expect(error).toMatchObject({
      code: 'REPLAY_LIMIT',
      message: `${API}/api/x still expired after 1 replay(s)`,
      cause: { statusCode: 401 },
    })
  })

  it('clear() rejects waiting requests with LOGGED_OUT saying so', async () => {
    const { backend, relay, send } = setup()
    await relay.setCredentials(backend.login())
    backend.expireAll()
    backend.hold('/auth/refresh')
    const pending = send(get('/api/x'))
    await vi.waitUntil(() => relay.refreshing)
    await relay.clear()
    await expect(pending).rejects.toMatchObject({ code: 'LOGGED_OUT', message: 'logged out' })
  })

  it('refresh() overtaken by clear() right after the refresh succeeded rejects LOGGED_OUT, never resolves empty credentials', async () => {
    const { backend, relay } = setup()
    await relay.setCredentials(backend.login())
    relay.on('refresh:success', () => queueMicrotask(() => void relay.clear()))
    await expect(relay.refresh()).rejects.toMatchObject({ code: 'LOGGED_OUT' })
  })
})
