// The session room: what credentials are adopted, which session a request belongs to, and storage that
// misbehaves. Each block names the SECURITY.md promise it proves.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { API, fakeBackend, get, memoryStore, quiet, relayOnBackend, settleAll } from '../test/helpers/fake-backend.js'
import { SessionExpiredError, createTokenRelay, decodeJwt } from './index.js'
import type { Credentials, RelayRequest, TokenRelayOptions, TokenStorage } from './index.js'
import { readCredentials } from './session.js'

const setup = (options: TokenRelayOptions = {}) => relayOnBackend({ logger: quiet, ...options })

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
const jwt = (claims: object) => `${b64({ alg: 'none' })}.${b64(claims)}.sig`

afterEach(() => {
  vi.useRealTimers()
})

const raise = (error: Error): never => {
  throw error
}

describe('tokens are validated on adoption (no header injection)', () => {
  const injected = 'a\r\nX-Injected: 1'

  it.each([injected, 'has space', 'tab\tbed', '', 'caf\u00e9'])(
    'setCredentials refuses accessToken %j with a TypeError and keeps the old pair',
    async (token) => {
      const { backend, relay } = setup()
      await relay.setCredentials(backend.login())
      expect(() => relay.setCredentials({ accessToken: token })).toThrow(/setCredentials got an accessToken/)
      expect(relay.getCredentials()?.accessToken).toBe('at-1')
    },
  )

  it.each([{ $gt: '' }, 42, 'rt\n1'])('setCredentials refuses refreshToken %j', async (refreshToken) => {
    const { relay } = setup()
    expect(() => relay.setCredentials({ accessToken: 'ok', refreshToken } as never)).toThrow(/refreshToken/)
    expect(relay.getCredentials()).toBeNull()
  })

  it('a refresh answer carrying CR/LF is REFRESH_FAILED naming the problem; the old pair is kept, nothing is stored or sent', async () => {
    const store = memoryStore()
    const sent: RelayRequest[] = []
    const { backend, relay } = setup({ storage: store, refresh: async () => ({ accessToken: injected, refreshToken: 'rt-x' }) })
    await relay.setCredentials(backend.login())
    backend.expireAll()
    const error = await relay.send(get('/api/x'), (req) => (sent.push(req), backend.transport(req))).catch((e) => e)
    expect(error.code).toBe('REFRESH_FAILED')
    expect(error.message).toMatch(/refresh returned an accessToken that is not a non-empty string of visible ASCII/)
    expect(relay.getCredentials()).toMatchObject({ accessToken: 'at-1', refreshToken: 'rt-1' })
    expect(store.log.some((l) => l.includes('X-Injected'))).toBe(false)
    expect(sent.every((r) => !String(r.header?.Authorization).includes('\n'))).toBe(true)
  })

  it.each([{ $gt: '' }, 42])('a refresh answer with refreshToken %j is refused, never stored and never presented', async (refreshToken) => {
    const store = memoryStore()
    const presented: unknown[] = []
    const backend = fakeBackend()
    let calls = 0
    const relay = createTokenRelay({
      baseURL: API,
      storage: store,
      logger: quiet,
      transport: backend.transport,
      refresh: async (ctx) =>
        (presented.push(ctx.refreshToken),
        ++calls === 1 ? { accessToken: 'at-9', refreshToken } : backend.refresh(ctx)) as unknown as Credentials,
    })
    await relay.setCredentials(backend.login())
    await expect(relay.refresh()).rejects.toMatchObject({ code: 'REFRESH_FAILED' })
    expect(store.log.join()).not.toContain('$gt')
    await relay.refresh()
    expect(presented).toEqual(['rt-1', 'rt-1'])
  })

  it('a stored pair with a control character is read as logged out', async () => {
    const store = memoryStore()
    store.data.set('tokenrelay', JSON.stringify({ accessToken: 'a\nb' }))
    const sent: RelayRequest[] = []
    const relay = createTokenRelay({ baseURL: API, storage: store, logger: quiet })
    await relay.send(get('/x'), async (req) => (sent.push(req), { statusCode: 200 }))
    expect(relay.getCredentials()).toBeNull()
    expect(sent[0].header?.Authorization).toBeUndefined()
  })
})

describe('a request belongs to the session it started in (account switch)', () => {
  it("Alice's request whose 401 arrives after clear() and setCredentials(bob) rejects LOGGED_OUT and never carries Bob's token", async () => {
    const { backend, relay, send } = setup()
    await relay.setCredentials(backend.login()) // alice: at-1
    const release = backend.hold('/api/alice-post')
    const alice = send({ ...get('/api/alice-post'), method: 'POST' }).catch((e) => e)
    await vi.waitUntil(() => backend.state.hits.length === 0 && relay.getCredentials())
    await new Promise((r) => setTimeout(r, 1))
    await relay.clear()
    await relay.setCredentials(backend.login()) // bob: at-2
    backend.expireAll() // Alice's token is refused when her request is answered
    release()
    expect((await alice).code).toBe('LOGGED_OUT')
    expect(backend.state.hits.filter((h) => h.url === '/api/alice-post').map((h) => h.token)).toEqual(['at-1'])
    expect(backend.state.refreshCalls).toBe(0)
  })

  it('the same holds on the stamp()/receive() path (uni-app)', async () => {
    const { backend, relay } = setup()
    await relay.setCredentials(backend.login())
    const stamped = relay.stamp({ url: '/api/alice' })
    backend.expireAll()
    const answer = await backend.transport(stamped.request)
    await relay.clear()
    await relay.setCredentials(backend.login())
    await expect(relay.receive({ url: '/api/alice' }, backend.transport, { ...stamped, response: answer })).rejects.toMatchObject({
      code: 'LOGGED_OUT',
    })
    expect(backend.hitsWith('at-2')).toBe(0)
  })

  it.each([
    ['another sub settle LOGGED_OUT', 'bob', ['LOGGED_OUT', 'LOGGED_OUT']],
    ['the same sub are replayed', 'alice', []],
  ])('waiters queued before a switch to credentials of %s', async (_, sub, codes) => {
    const alice = jwt({ sub: 'alice' })
    const relay = createTokenRelay({
      baseURL: API,
      decodeToken: decodeJwt,
      logger: quiet,
      refresh: () => new Promise<never>(() => {}),
      refreshTimeoutMs: 60_000,
    })
    await relay.setCredentials({ accessToken: alice, refreshToken: 'rt' })
    const sent: string[] = []
    const transport = async (req: RelayRequest) => (
      sent.push(String(req.header?.Authorization)),
      { statusCode: req.header?.Authorization === `Bearer ${alice}` ? 401 : 200 }
    )
    const waiting = settleAll([relay.send(get('/api/1'), transport), relay.send(get('/api/2'), transport)])
    await vi.waitUntil(() => relay.refreshing)
    const next = jwt({ sub, n: 2 })
    await relay.setCredentials({ accessToken: next })
    const { rejected } = await waiting
    expect(rejected.map((e) => e.code)).toEqual(codes)
    expect(sent.filter((s) => s.includes(next))).toHaveLength(sub === 'alice' ? 2 : 0)
  })
})

describe('storage that hangs or is slow', () => {
  const hung = (overrides: Partial<TokenStorage> = {}): TokenStorage => ({
    get: () => undefined,
    set: () => new Promise(() => {}),
    remove: () => new Promise(() => {}),
    ...overrides,
  })

  it('a storage.set that never settles releases the waiters after storageTimeoutMs with the new pair from memory, and warns', async () => {
    const warn = vi.fn()
    const { backend, relay, send } = setup({ storage: hung(), storageTimeoutMs: 50, logger: { log() {}, warn } })
    void relay.setCredentials(backend.login())
    backend.expireAll()
    const { fulfilled } = await settleAll(Array.from({ length: 3 }, (_, i) => send(get(`/api/${i}`))))
    expect(fulfilled.map((r) => (r.data as { token: string }).token)).toEqual(['at-2', 'at-2', 'at-2'])
    expect(relay.refreshing).toBe(false)
    expect(backend.state.refreshCalls).toBe(1)
    expect(warn.mock.calls.join()).toMatch(/storage\.set did not settle within 50 ms/)
    await expect(send(get('/api/later'))).resolves.toMatchObject({ statusCode: 200 })
  })

  it('writes go out one at a time, newest last: a slow older write never overwrites a newer pair', async () => {
    const data = new Map<string, string>()
    const landing: (() => void)[] = []
    const calls: string[] = []
    const storage: TokenStorage = {
      get: () => undefined,
      set: (k, v) => (calls.push(JSON.parse(v).accessToken), new Promise<void>((r) => landing.push(() => (data.set(k, v), r())))),
      remove: (k) => void data.delete(k),
    }
    const relay = createTokenRelay({ baseURL: API, storage, storageTimeoutMs: 20, logger: quiet })
    const a = relay.setCredentials({ accessToken: 'A' })
    const b = relay.setCredentials({ accessToken: 'B' })
    const c = relay.setCredentials({ accessToken: 'C' })
    expect(calls).toEqual(['A']) // B and C wait behind A, and C replaces B
    await Promise.all([a, b, c]) // bounded: resolved by the timeout, the writes still pending
    // A has hung past the bound: it no longer holds the newest pair back
    await vi.waitUntil(() => landing.length === 2)
    expect(calls).toEqual(['A', 'C'])
    landing[1]() // C lands first
    await vi.waitUntil(() => data.get('tokenrelay') !== undefined)
    landing[0]() // then the stale A lands over it: the newest pair is written again
    await vi.waitUntil(() => landing.length === 3)
    expect(calls).toEqual(['A', 'C', 'C'])
    landing[2]()
    await vi.waitUntil(() => JSON.parse(data.get('tokenrelay')!).accessToken === 'C')
  })

  it('a storage.set that never settles does not hold back a later logout: the remove still goes out', async () => {
    const removed: string[] = []
    const storage = hung({ remove: (k) => void removed.push(k) })
    const relay = createTokenRelay({ baseURL: API, storage, storageTimeoutMs: 20, logger: quiet })
    await relay.setCredentials({ accessToken: 'A' })
    await relay.clear()
    await vi.waitUntil(() => removed.length === 1, { timeout: 500 })
    expect(removed).toEqual(['tokenrelay'])
  })

  it('a storage.get that never settles: requests go out logged out after the bound, with one warning', async () => {
    const warn = vi.fn()
    const relay = createTokenRelay({
      baseURL: API,
      storage: hung({ get: () => new Promise(() => {}) }),
      storageTimeoutMs: 30,
      logger: { log() {}, warn },
    })
    const sent: RelayRequest[] = []
    await relay.send(get('/x'), async (req) => (sent.push(req), { statusCode: 200 }))
    await relay.send(get('/y'), async (req) => (sent.push(req), { statusCode: 200 }))
    expect(sent.map((r) => r.header?.Authorization)).toEqual([undefined, undefined])
    expect(warn).toHaveBeenCalledTimes(1)
    expect(String(warn.mock.calls[0][0])).toMatch(/storage\.get did not settle within 30 ms/)
  })

  it('auth: false requests never wait for storage', async () => {
    vi.useFakeTimers()
    const relay = createTokenRelay({
      baseURL: API,
      storage: hung({ get: () => new Promise(() => {}) }),
      storageTimeoutMs: 60_000,
      logger: quiet,
    })
    const res = relay.send(get('/public', { auth: false }), async () => ({ statusCode: 200 }))
    await vi.advanceTimersByTimeAsync(1)
    await expect(res).resolves.toMatchObject({ statusCode: 200 })
  })

  it('a slow read that finishes after setCredentials() does not overwrite the newer pair', async () => {
    let answer!: (v: string) => void
    const relay = createTokenRelay({ baseURL: API, storage: hung({ get: () => new Promise<string>((r) => (answer = r)) }), logger: quiet })
    void relay.setCredentials({ accessToken: 'new' })
    answer(JSON.stringify({ accessToken: 'old' }))
    await relay.ready
    expect(relay.getCredentials()?.accessToken).toBe('new')
  })
})

describe('credentials known to be expired are never sent', () => {
  it.each([
    ['expiresAt in the past', (now: number) => ({ accessToken: 'at-1', refreshToken: 'rt-1', expiresAt: now - 1000 })],
    ['expiresIn 0', () => ({ accessToken: 'at-1', refreshToken: 'rt-1', expiresIn: 0 })],
  ])('%s: the relay refreshes first, zero 401 round trips', async (_, make) => {
    const { backend, relay, send } = setup()
    backend.login() // at-1 / rt-1 exist at the server; the app hands them over already expired
    await relay.setCredentials(make(Date.now()))
    backend.expireAll()
    const { fulfilled } = await settleAll(Array.from({ length: 5 }, (_, i) => send(get(`/api/${i}`))))
    expect(fulfilled).toHaveLength(5)
    expect(backend.state.hits.filter((h) => h.status === 401)).toEqual([])
    expect(backend.state.refreshCalls).toBe(1)
  })

  it('a cold start with an expired pair in storage refreshes before the first request', async () => {
    const store = memoryStore()
    const backend = fakeBackend()
    backend.login()
    backend.expireAll()
    store.data.set('tokenrelay', JSON.stringify({ accessToken: 'at-1', refreshToken: 'rt-1', expiresAt: Date.now() - 60_000 }))
    const relay = createTokenRelay({ baseURL: API, storage: store, refresh: backend.refresh, logger: quiet })
    await expect(relay.send(get('/api/x'), backend.transport)).resolves.toMatchObject({ statusCode: 200 })
    expect(backend.state.hits.map((h) => h.status)).toEqual([200, 200])
  })

  it('a stored JWT whose exp has passed (no expiresAt) is never sent', async () => {
    const store = memoryStore()
    const backend = fakeBackend()
    const stale = jwt({ sub: 'u', exp: Math.floor(Date.now() / 1000) - 60 })
    backend.login()
    store.data.set('tokenrelay', JSON.stringify({ accessToken: stale, refreshToken: 'rt-1' }))
    const relay = createTokenRelay({ baseURL: API, storage: store, decodeToken: decodeJwt, refresh: backend.refresh, logger: quiet })
    await expect(relay.send(get('/api/x'), backend.transport)).resolves.toMatchObject({ statusCode: 200 })
    expect(backend.state.hits.filter((h) => h.token === stale)).toEqual([])
    expect(backend.state.refreshCalls).toBe(1)
  })

  it('a fresh JWT is timed from its lifetime on arrival, so a clock 10 minutes fast causes no refresh', async () => {
    const now = Date.now()
    const fast = now + 10 * 60_000
    const clock = { now: () => fast, setTimeout, clearTimeout } as never
    const refresh = vi.fn()
    const relay = createTokenRelay({ baseURL: API, decodeToken: decodeJwt, clock, refresh, logger: quiet })
    const token = jwt({ iat: Math.floor(now / 1000), exp: Math.floor(now / 1000) + 300 })
    await relay.setCredentials({ accessToken: token, refreshToken: 'rt-1' })
    const sent: RelayRequest[] = []
    await relay.send(get('/api/x'), async (req) => (sent.push(req), { statusCode: 200 }))
    expect(sent[0].header?.Authorization).toBe(`Bearer ${token}`)
    expect(refresh).not.toHaveBeenCalled()
  })
})

describe('no refresh path', () => {
  it('inside refreshAheadMs but not expired: sent with the current token, the session goes on', async () => {
    let now = Date.now()
    const clock = { now: () => now, setTimeout, clearTimeout } as never
    const backend = fakeBackend()
    const relay = createTokenRelay({ baseURL: API, logger: quiet, clock })
    await relay.setCredentials({ ...backend.login(), refreshToken: undefined, expiresIn: 30 })
    now += 20_000 // 10 s left: inside the ahead window
    await expect(relay.send(get('/api/x'), backend.transport)).resolves.toMatchObject({ statusCode: 200 })
    expect(relay.getCredentials()?.accessToken).toBe('at-1')
  })

  it('once really expired, the session ends without sending the dead token', async () => {
    let now = Date.now()
    const clock = { now: () => now, setTimeout, clearTimeout } as never
    const backend = fakeBackend()
    const onSessionExpired = vi.fn()
    const relay = createTokenRelay({ baseURL: API, logger: quiet, clock, onSessionExpired })
    await relay.setCredentials({ accessToken: 'at-x', expiresIn: 30 })
    now += 31_000
    await expect(relay.send(get('/api/x'), backend.transport)).rejects.toMatchObject({ code: 'SESSION_EXPIRED' })
    expect(backend.state.hits).toEqual([])
    expect(onSessionExpired).toHaveBeenCalledTimes(1)
  })
})

describe('readCredentials: what is adopted, field by field', () => {
  it.each([
    [null, 'no credentials (received null)'],
    [undefined, 'no credentials (received undefined)'],
    ['at-1', 'no credentials (received string)'],
    [{}, 'no accessToken (received keys: none)'],
    [{ token: 'x', user: 1 }, 'no accessToken (received keys: token, user)'],
  ])('%j: %s', (value, problem) => {
    expect(readCredentials(value)).toBe(problem)
  })

  it('keeps only the fields given (no undefined keys), snake_case or camelCase', () => {
    expect(readCredentials({ accessToken: 'a' })).toStrictEqual({ accessToken: 'a' })
    expect(readCredentials({ access_token: 'a', refresh_token: 'r', expires_in: '60' })).toStrictEqual({
      accessToken: 'a',
      refreshToken: 'r',
      expiresIn: 60,
    })
    expect(readCredentials({ accessToken: 'a', expiresAt: 5 })).toStrictEqual({ accessToken: 'a', expiresAt: 5 })
  })

  it.each([null, 'soon', {}])('an expiresIn of %j is left out, not read as 0 or NaN', (expiresIn) => {
    expect(readCredentials({ accessToken: 'a', expiresIn })).toStrictEqual({ accessToken: 'a' })
  })

  it('an expires_in of null (and no expiresIn) is left out too, not read as 0', () => {
    expect(readCredentials({ accessToken: 'a', expires_in: null })).toStrictEqual({ accessToken: 'a' })
  })

  it('adopted credentials and the change event carry no undefined keys either', async () => {
    const changes: unknown[] = []
    const relay = createTokenRelay({ baseURL: API, logger: quiet })
    relay.on('change', ({ credentials }) => changes.push(credentials))
    await relay.setCredentials({ accessToken: 'a' })
    expect(relay.getCredentials()).toStrictEqual({ accessToken: 'a' })
    await relay.clear()
    expect(changes).toStrictEqual([{ accessToken: 'a' }, null])
  })
})

describe('token claims', () => {
  it('a token whose claims have no exp has no expiry (not NaN)', async () => {
    const relay = createTokenRelay({ baseURL: API, logger: quiet, decodeToken: () => ({ sub: 'alice', iat: 1 }) })
    await relay.setCredentials({ accessToken: 'opaque-to-us' })
    expect(relay.getCredentials()).toStrictEqual({ accessToken: 'opaque-to-us' })
  })

  it('a refresh answer that is a JWT is timed from its lifetime on arrival, like setCredentials', async () => {
    const now = 5_000_000_000_000 // the device clock, far from the server's
    const clock = { now: () => now, setTimeout, clearTimeout } as never
    const token = jwt({ iat: 1_000, exp: 1_000 + 600 })
    const relay = createTokenRelay({
      baseURL: API,
      logger: quiet,
      clock,
      decodeToken: decodeJwt,
      refresh: async () => ({ accessToken: token }),
    })
    await relay.setCredentials({ accessToken: 'old', refreshToken: 'rt' })
    await relay.refresh()
    expect(relay.getCredentials()?.expiresAt).toBe(now + 600_000)
  })

  it('a stored JWT is timed from its exp, not as if it had just arrived', async () => {
    const now = Date.now()
    const stale = jwt({ iat: Math.floor(now / 1000) - 7200, exp: Math.floor(now / 1000) - 3600 }) // expired an hour ago
    const storage = memoryStore()
    storage.data.set('tokenrelay', JSON.stringify({ accessToken: stale, refreshToken: 'rt' }))
    const refresh = vi.fn(async () => ({ accessToken: 'fresh', expiresIn: 60 }))
    const sent: string[] = []
    const relay = createTokenRelay({ baseURL: API, logger: quiet, storage, decodeToken: decodeJwt, refresh })
    await relay.send(get('/api/x'), async (req) => (sent.push(String(req.header?.Authorization)), { statusCode: 200 }))
    expect(refresh).toHaveBeenCalledTimes(1)
    expect(sent).toEqual(['Bearer fresh'])
  })

  it('a sub that is not a string (RFC 7519: StringOrURI) never switches the account', async () => {
    let sub: unknown = 1
    const relay = createTokenRelay({ baseURL: API, logger: quiet, decodeToken: () => ({ sub }) as never })
    await relay.setCredentials({ accessToken: 'one' })
    let resolve!: (response: { statusCode: number }) => void
    const sent: unknown[] = []
    const transport = (req: RelayRequest) => (
      sent.push(req.header?.Authorization),
      sent.length === 1 ? new Promise<{ statusCode: number }>((r) => (resolve = r)) : Promise.resolve({ statusCode: 200 })
    )
    const pending = relay.send(get('/api/x'), transport)
    await vi.waitUntil(() => resolve)
    sub = 2
    await relay.setCredentials({ accessToken: 'two' })
    resolve({ statusCode: 401 })
    // Same account: the late 401 for the old token is replayed with the new one.
    await expect(pending).resolves.toMatchObject({ statusCode: 200 })
    expect(sent).toEqual(['Bearer one', 'Bearer two'])
  })
})

describe('session ids never repeat', () => {
  /** A transport whose answers the test releases one by one, recording the token of each request. */
  function heldTransport() {
    const sent: string[] = []
    const held: ((status: number) => void)[] = []
    const transport = (req: RelayRequest) =>
      new Promise<{ statusCode: number }>((resolve) => {
        sent.push(String(req.header?.Authorization))
        held.push((statusCode) => resolve({ statusCode }))
      })
    return { sent, held, transport }
  }

  it('a request of the session after a logout is still bound to it: logged out again, its 401 is never replayed with the next token', async () => {
    const relay = createTokenRelay({ baseURL: API, logger: quiet })
    const { sent, held, transport } = heldTransport()
    await relay.setCredentials({ accessToken: 'A' })
    await relay.clear()
    await relay.setCredentials({ accessToken: 'B' })
    const pending = relay.send(get('/api/x'), transport)
    await vi.waitUntil(() => held.length === 1)
    await relay.clear()
    await relay.setCredentials({ accessToken: 'C' })
    held[0](401)
    await expect(pending).rejects.toMatchObject({ code: 'LOGGED_OUT' })
    expect(sent).toEqual(['Bearer B'])
  })

  it('the same after an account switch (by sub) and a logout', async () => {
    const relay = createTokenRelay({ baseURL: API, logger: quiet, decodeToken: decodeJwt })
    const { sent, held, transport } = heldTransport()
    const alice = jwt({ sub: 'alice' })
    await relay.setCredentials({ accessToken: alice })
    const pending = relay.send(get('/api/x'), transport)
    await vi.waitUntil(() => held.length === 1)
    await relay.setCredentials({ accessToken: jwt({ sub: 'bob' }) })
    await relay.clear()
    const carol = jwt({ sub: 'carol' })
    await relay.setCredentials({ accessToken: carol })
    held[0](401)
    await expect(pending).rejects.toMatchObject({ code: 'LOGGED_OUT' })
    expect(sent).toEqual([`Bearer ${alice}`])
  })
})

describe('expiry boundaries', () => {
  function clocked(options: TokenRelayOptions = {}) {
    let now = 1_000_000
    const clock = { now: () => now, setTimeout, clearTimeout } as never
    const reasons: string[] = []
    const relay = createTokenRelay({
      baseURL: API,
      logger: quiet,
      clock,
      refreshAheadMs: 10_000,
      refresh: async () => ({ accessToken: 'new', expiresIn: 3600 }),
      ...options,
    })
    relay.on('refresh:start', ({ reason }) => reasons.push(reason))
    return { relay, reasons, at: (t: number) => (now = t) }
  }
  const ok = async () => ({ statusCode: 200 })

  it('at the expiry instant the token counts as expired', async () => {
    const { relay, reasons, at } = clocked()
    await relay.setCredentials({ accessToken: 'a', refreshToken: 'rt', expiresAt: 1_100_000 })
    at(1_100_000)
    await relay.send(get('/api/x'), ok)
    expect(reasons).toEqual(['expired'])
  })

  it('at the first instant of the refresh-ahead window the request waits for a refresh', async () => {
    const { relay, reasons, at } = clocked()
    await relay.setCredentials({ accessToken: 'a', refreshToken: 'rt', expiresAt: 1_100_000 })
    at(1_090_000)
    await relay.send(get('/api/x'), ok)
    expect(reasons).toEqual(['ahead'])
  })
})

describe('storage and callbacks that fail', () => {
  it('a stored value that is already an object (storage that parses for you) is adopted', async () => {
    const relay = createTokenRelay({
      baseURL: API,
      logger: quiet,
      storage: { get: () => ({ accessToken: 'stored' }) as never, set() {}, remove() {} },
    })
    await relay.ready
    expect(relay.getCredentials()).toStrictEqual({ accessToken: 'stored' })
  })

  it('a storage.remove that never settles is named in the warning and the error event', async () => {
    const warn = vi.fn()
    const errors: unknown[] = []
    const relay = createTokenRelay({
      baseURL: API,
      storage: { get: () => undefined, set() {}, remove: () => new Promise<void>(() => {}) },
      storageTimeoutMs: 10,
      logger: { log() {}, warn },
    })
    relay.on('error', ({ error }) => errors.push(error))
    await relay.setCredentials({ accessToken: 'a' })
    await relay.clear()
    expect(String(warn.mock.calls[0][0])).toMatch(/storage\.remove did not settle within 10 ms/)
    expect(warn.mock.calls[0]).toHaveLength(1) // the message alone: no Error with a stack of ours in the console
    expect(errors).toHaveLength(1)
    expect(String((errors[0] as Error).message)).toMatch(/storage\.remove did not settle/)
  })

  it('a throwing decodeToken is reported with a message saying what happens', async () => {
    const errors: { message: string }[] = []
    const relay = createTokenRelay({
      baseURL: API,
      logger: quiet,
      decodeToken: () => {
        throw new Error('bad')
      },
    })
    relay.on('error', ({ error }) => errors.push(error as never))
    await relay.setCredentials({ accessToken: 'a' })
    expect(errors.map((e) => e.message)).toEqual(['[tokenrelay] decodeToken threw: the token is treated as opaque'])
  })

  it('a throwing decodeToken reaches the logger too (an app with no error listener still hears of it), as a CONFIG_ERROR', async () => {
    const warn = vi.fn()
    const errors: unknown[] = []
    const bad = new Error('bad')
    const relay = createTokenRelay({ baseURL: API, logger: { log() {}, warn }, decodeToken: () => raise(bad) })
    relay.on('error', ({ error }) => errors.push(error))
    await relay.setCredentials({ accessToken: 'a' })
    expect(warn).toHaveBeenCalledTimes(1)
    expect(warn.mock.calls[0][0]).toBe('[tokenrelay] decodeToken threw: the token is treated as opaque')
    expect(warn.mock.calls[0][1]).toMatchObject({ code: 'CONFIG_ERROR', cause: bad })
    expect(errors).toEqual([warn.mock.calls[0][1]])
  })

  it('an onSessionExpired that throws is reported; the waiter still gets SESSION_EXPIRED and the event its error', async () => {
    const boom = new Error('navigation failed')
    const refused = new SessionExpiredError('refused')
    const errors: unknown[] = []
    const expired: unknown[] = []
    const relay = createTokenRelay({
      baseURL: API,
      logger: quiet,
      refresh: async () => {
        throw refused
      },
      onSessionExpired: () => {
        throw boom
      },
    })
    relay.on('error', ({ error }) => errors.push(error))
    relay.on('session-expired', ({ error }) => expired.push(error))
    await relay.setCredentials({ accessToken: 'a', refreshToken: 'rt', expiresIn: 0 })
    await expect(relay.send(get('/api/x'), async () => ({ statusCode: 200 }))).rejects.toBe(refused)
    expect(errors).toEqual([boom])
    expect(expired).toEqual([refused])
  })
})
