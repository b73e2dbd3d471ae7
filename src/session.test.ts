// The session room: what credentials are adopted, which session a request belongs to, and storage that
// misbehaves. Each block names the SECURITY.md promise it proves.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { API, fakeBackend, memoryStore, settleAll } from '../test/helpers/fake-backend.js'
import { createTokenRelay, decodeJwt } from './index.js'
import type { Credentials, RelayRequest, TokenRelayOptions, TokenStorage } from './index.js'

const get = (path: string, extra: Partial<RelayRequest> = {}): RelayRequest => ({ url: `${API}${path}`, method: 'GET', ...extra })
const quiet = { log() {}, warn() {} }

function setup(options: TokenRelayOptions = {}) {
  const backend = fakeBackend()
  const relay = createTokenRelay({
    baseURL: API,
    refresh: backend.refresh,
    transport: backend.transport,
    retry: { attempts: 2, backoffMs: 1 },
    logger: quiet,
    ...options,
  })
  return { backend, relay, send: (req: RelayRequest) => relay.send(req, backend.transport) }
}

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
const jwt = (claims: object) => `${b64({ alg: 'none' })}.${b64(claims)}.sig`

afterEach(() => {
  vi.useRealTimers()
})

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
    await Promise.all([a, b, c]) // bounded: resolved by the timeout, the writes still pending
    expect(calls).toEqual(['A'])
    landing.shift()!() // A lands; then only the newest waiting pair is written
    await vi.waitUntil(() => landing.length === 1)
    expect(calls).toEqual(['A', 'C'])
    landing.shift()!()
    await vi.waitUntil(() => JSON.parse(data.get('tokenrelay')!).accessToken === 'C')
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
