import { describe, expect, it, vi } from 'vitest'
import { API, get, memoryStore, quiet, relayOnBackend, settleAll } from '../test/helpers/fake-backend.js'
import type { RelayRequest, RelayResponse, TokenRelayOptions, Transport } from './index.js'
import { authRequests } from './auth.js'
import { isTokenRelayError } from './index.js'

const AUTH = { login: '/auth/login', logout: '/auth/logout' }
const login = (extra: Partial<RelayRequest> = {}): RelayRequest => ({
  url: `${API}/auth/login`,
  method: 'POST',
  data: { code: 'c' },
  ...extra,
})
const logout = (extra: Partial<RelayRequest> = {}): RelayRequest => ({ url: `${API}/auth/logout`, method: 'POST', ...extra })
const token = (res: RelayResponse) => (res.data as { token: string }).token

/** `promise`, or a rejection naming it when it has not settled within `ms` (a request held where it must not be). */
const within = <T>(promise: Promise<T>, what: string, ms = 1000) =>
  Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} still pending after ${ms} ms`)), ms)),
  ])

/** A relay on the fake backend with `authRequests`, persistent storage and a warn spy; logged in as at-1 unless told. */
async function setup(options: TokenRelayOptions = {}, loggedIn = true) {
  const storage = memoryStore()
  const warn = vi.fn()
  const made = relayOnBackend({ authRequests: authRequests(AUTH), storage, logger: { log() {}, warn }, ...options })
  const errors: unknown[] = []
  made.relay.on('error', (e) => errors.push(e.error))
  if (loggedIn) await made.relay.setCredentials(made.backend.login())
  const stored = () => JSON.parse(storage.data.get('tokenrelay') || 'null') as { accessToken: string } | null
  const hits = (path: string) => made.backend.state.hits.filter((h) => h.url === path)
  return { ...made, storage, stored, warn, errors, hits }
}

/** The backend's transport with the login's answer rewritten: how other servers shape it. */
const reshaped =
  (transport: Transport, shape: (data: Record<string, unknown>) => unknown): Transport =>
  async (req) => {
    const res = await transport(req)
    return req.url.endsWith('/auth/login') ? { ...res, data: shape(res.data as Record<string, unknown>) } : res
  }

describe('a recognised login', () => {
  it('goes out without the token; its answer becomes the credentials, stored before the caller gets it', async () => {
    const { relay, send, hits, stored } = await setup()
    const res = await send(login())
    expect(res.statusCode).toBe(200)
    // Adopted by the time the caller has the answer: no setCredentials() call needed.
    expect(relay.getCredentials()).toMatchObject({ accessToken: 'at-2', refreshToken: 'rt-2' })
    expect(stored()).toMatchObject({ accessToken: 'at-2' })
    expect(hits('/auth/login').map((h) => h.token)).toEqual([undefined])
    expect(token(await send(get('/api/next')))).toBe('at-2')
  })

  it('takes RFC 6749 snake_case, and credentials in a wrapper through authRequests.credentials', async () => {
    const snake = await setup({}, false)
    const snakeTransport = reshaped(snake.backend.transport, (d) => ({
      access_token: d.accessToken,
      refresh_token: d.refreshToken,
      expires_in: 60,
    }))
    await snake.relay.send(login(), snakeTransport)
    expect(snake.relay.getCredentials()).toMatchObject({ accessToken: 'at-1', refreshToken: 'rt-1', expiresAt: expect.any(Number) })

    const wrapped = await setup(
      { authRequests: authRequests({ ...AUTH, credentials: (res) => (res.data as { data: unknown }).data }) },
      false,
    )
    // As a string body (uploads, dataType 'text'): parsed before the picker sees it.
    const wrappedTransport = reshaped(wrapped.backend.transport, (data) => JSON.stringify({ code: 0, data }))
    const res = await wrapped.relay.send(login(), wrappedTransport)
    expect(typeof res.data).toBe('string') // the caller gets the answer as it came
    expect(wrapped.stored()).toMatchObject({ accessToken: 'at-1' })
    expect(token(await wrapped.send(get('/api/next')))).toBe('at-1')
    expect(wrapped.warn).not.toHaveBeenCalled()
  })

  it('an answer without valid credentials is reported with the keys received; the old credentials stay; the caller gets the answer', async () => {
    const { relay, backend, warn, errors, stored } = await setup()
    const refused = reshaped(backend.transport, () => ({ code: 1001, msg: 'wrong password' }))
    const res = await relay.send(login(), refused)
    expect(res).toMatchObject({ statusCode: 200, data: { code: 1001, msg: 'wrong password' } })
    expect(relay.getCredentials()).toMatchObject({ accessToken: 'at-1' })
    expect(stored()).toMatchObject({ accessToken: 'at-1' })
    expect(warn).toHaveBeenCalledTimes(1)
    expect(warn.mock.calls[0][0]).toBe(
      `[tokenrelay] login ${API}/auth/login answered 200 with no accessToken (received keys: code, msg): credentials unchanged (see authRequests.credentials)`,
    )
    expect(errors).toHaveLength(1)
    expect(isTokenRelayError(errors[0], 'CONFIG_ERROR')).toBe(true)
    expect((errors[0] as { cause: unknown }).cause).toBe(res)
    // A bad token is refused the same way as from refresh (a header injection).
    await relay.send(
      login(),
      reshaped(backend.transport, () => ({ accessToken: 'a\r\nX-Evil: 1' })),
    )
    expect(warn.mock.calls[1][0]).toMatch(/with an accessToken that is not a non-empty string of visible ASCII characters/)
    expect(relay.getCredentials()).toMatchObject({ accessToken: 'at-1' })
  })

  it('a picker that says "no login" (null), a refused login (4xx) and a picker that throws change nothing', async () => {
    const picker = vi.fn((res: RelayResponse) => ((res.data as { code?: number }).code === 0 ? res.data : null))
    const { relay, backend, warn } = await setup({ authRequests: authRequests({ ...AUTH, credentials: picker }) })
    await relay.send(
      login(),
      reshaped(backend.transport, () => ({ code: 1001 })),
    )
    backend.state.loginFaults.push('401')
    const res = await relay.send(login(), backend.transport)
    expect(res.statusCode).toBe(401) // never refreshed nor replayed: the login page shows it
    expect(picker).toHaveBeenCalledTimes(1)
    expect(warn).not.toHaveBeenCalled()
    expect(backend.state.refreshCalls).toBe(0)
    expect(backend.state.loginCalls).toBe(2)
    // A picker that throws is a mistake in the app's options: the caller gets CONFIG_ERROR naming it.
    const throwing = await setup({ authRequests: authRequests({ ...AUTH, credentials: () => JSON.parse('{') }) })
    const error = await throwing.send(login()).catch((e: unknown) => e)
    expect(error).toMatchObject({
      code: 'CONFIG_ERROR',
      message: expect.stringMatching(/^\[tokenrelay\] authRequests\.credentials threw: /),
    })
    expect(throwing.relay.getCredentials()).toMatchObject({ accessToken: 'at-1' })
    expect(relay.getCredentials()).toMatchObject({ accessToken: 'at-1' })
  })

  it('is never held for a running refresh, and supersedes it: the waiters replay with the login’s token', async () => {
    const { relay, backend, send, hits } = await setup()
    backend.expireAll()
    const release = backend.hold('/auth/refresh')
    const waiting = Array.from({ length: 3 }, (_, i) => send(get(`/api/w${i}`)))
    await vi.waitUntil(() => relay.refreshing)
    const answered = vi.fn()
    const loggedIn = send(login()).then(answered)
    await vi.waitUntil(() => answered.mock.calls.length === 1, { timeout: 1000 })
    expect(relay.refreshing).toBe(false)
    const { fulfilled, rejected } = await settleAll(waiting)
    expect(rejected).toEqual([])
    expect(fulfilled.map(token)).toEqual(['at-2', 'at-2', 'at-2'])
    release()
    await loggedIn
    await vi.waitUntil(() => backend.state.hits.some((h) => h.url === '/auth/refresh'))
    await new Promise((r) => setTimeout(r, 5))
    // The refresh answered (at-3) after the login: discarded.
    expect(relay.getCredentials()).toMatchObject({ accessToken: 'at-2' })
    expect(backend.state.refreshCalls).toBe(1)
    expect(hits('/auth/login').map((h) => h.token)).toEqual([undefined])
  })
})

describe('a recognised logout', () => {
  it('goes out with the token, even during a refresh; then the session ends: waiters LOGGED_OUT, storage emptied, no token after', async () => {
    const { relay, backend, send, hits, stored } = await setup()
    backend.expireAll()
    const release = backend.hold('/auth/refresh')
    const waiting = Array.from({ length: 3 }, (_, i) => send(get(`/api/w${i}`)))
    await vi.waitUntil(() => relay.refreshing)
    const out = await within(send(logout()), 'the logout')
    // at-1 is expired: the 401 comes back as it is, with no refresh and no replay.
    expect(out.statusCode).toBe(401)
    expect(hits('/auth/logout').map((h) => h.token)).toEqual(['at-1'])
    const { rejected } = await settleAll(waiting)
    expect(rejected.map((e) => e.code)).toEqual(['LOGGED_OUT', 'LOGGED_OUT', 'LOGGED_OUT'])
    expect(relay.getCredentials()).toBeNull()
    expect(stored()).toBeNull()
    release()
    await send(get('/api/after')).catch(() => {})
    expect(hits('/api/after').map((h) => h.token)).toEqual([undefined])
    expect(backend.state.refreshCalls).toBe(1)
    expect(backend.state.logoutCalls).toBe(1)
  })

  it('a logout the server accepts revokes there; one that fails on the network clears all the same', async () => {
    const { relay, backend, send, hits, stored } = await setup()
    await expect(send(logout())).resolves.toMatchObject({ statusCode: 200 })
    expect(hits('/auth/logout').map((h) => [h.token, h.status])).toEqual([['at-1', 200]])
    expect(stored()).toBeNull()
    await relay.setCredentials(backend.login())
    const offline: Transport = () => Promise.reject(new Error('request:fail network'))
    await expect(relay.send(logout(), offline)).rejects.toThrow('request:fail network')
    expect(relay.getCredentials()).toBeNull()
    expect(stored()).toBeNull()
  })

  it('aborted before it went out: not sent, the session stays', async () => {
    const { relay, send, hits } = await setup()
    const signal = { aborted: true, reason: 'gone', addEventListener() {}, removeEventListener() {} }
    await expect(send(logout({ signal }))).rejects.toMatchObject({ code: 'ABORTED' })
    expect(hits('/auth/logout')).toEqual([])
    expect(relay.getCredentials()).toMatchObject({ accessToken: 'at-1' })
    await send(logout())
    expect(hits('/auth/logout')).toHaveLength(1)
    expect(relay.getCredentials()).toBeNull()
  })
})

describe('recognition', () => {
  it('only on allowed origins: another host’s "login" answer is never adopted, its "logout" ends nothing', async () => {
    const { relay, backend, warn } = await setup()
    const evil: Transport = async (req) =>
      req.url.startsWith('https://evil.test') ? { statusCode: 200, data: { accessToken: 'stolen' } } : backend.transport(req)
    await relay.send({ url: 'https://evil.test/auth/login', method: 'POST' }, evil)
    await relay.send({ url: 'https://evil.test/auth/logout', method: 'POST' }, evil)
    expect(relay.getCredentials()).toMatchObject({ accessToken: 'at-1' })
    expect(warn).not.toHaveBeenCalled()
    // The same paths on the allowed origin are recognised.
    await relay.send(login(), evil)
    expect(relay.getCredentials()).toMatchObject({ accessToken: 'at-2' })
    await relay.send(logout(), evil)
    expect(relay.getCredentials()).toBeNull()
  })

  it('a string is the resolved path (query ignored); a RegExp is tested on it; a predicate gets the resolved request', async () => {
    const { relay, backend } = await setup({
      baseURL: `${API}/v1`,
      authRequests: authRequests({ login: /^\/auth\/log[i]n$/g, logout: '/v1/bye' }),
    })
    await relay.send({ url: '/auth/login?from=form', method: 'POST', data: {} }, backend.transport)
    await relay.send({ url: '/auth/login', method: 'POST', data: {} }, backend.transport) // a /g RegExp still matches twice
    expect(relay.getCredentials()).toMatchObject({ accessToken: 'at-3' })
    await relay.send({ url: 'bye', method: 'POST' }, backend.transport) // resolves to /v1/bye
    expect(relay.getCredentials()).toBeNull()
    const seen: string[] = []
    const byTest = await setup({
      authRequests: authRequests({ login: (req) => (seen.push(req.url), req.method === 'POST' && req.url.endsWith('/in')) }),
    })
    await byTest.relay.send({ url: `${API}/auth/login`, method: 'GET' }, byTest.backend.transport)
    expect(byTest.relay.getCredentials()).toMatchObject({ accessToken: 'at-1' })
    await byTest.relay.send({ url: '/auth/in', method: 'POST' }, byTest.backend.transport)
    expect(seen).toEqual([`${API}/auth/login`, `${API}/auth/in`])
  })

  it('the interceptor path: wouldWait is false for a login, stamp() sends it bare and marks it; receive() adopts', async () => {
    const { relay, backend, stored } = await setup({ login: neverAnswers }, false)
    // Logged out with a silent login strategy: every other request would wait for it.
    expect(relay.wouldWait(get('/api/x'))).toBe(true)
    expect(relay.wouldWait(login())).toBe(false)
    const stamped = relay.stamp(login({ header: { 'X-App': '1' } }))
    expect(stamped).toMatchObject({ adopt: true, request: { url: `${API}/auth/login`, header: { 'X-App': '1' } } })
    expect(stamped.request.header!.Authorization).toBeUndefined()
    const response = await backend.transport(stamped.request)
    await relay.receive(login(), backend.transport, { ...stamped, response })
    expect(stored()).toMatchObject({ accessToken: 'at-1' })
    expect(relay.stamp(get('/api/x')).request.header!.Authorization).toBe('Bearer at-1')
    expect(backend.state.loginCalls).toBe(1)
  })

  it('the interceptor path: a logout is stamped with the token during a refresh and ends the session; receive() never replays it', async () => {
    const { relay, backend, send } = await setup()
    backend.expireAll()
    const release = backend.hold('/auth/refresh')
    const waiting = send(get('/api/w'))
    await vi.waitUntil(() => relay.refreshing)
    expect(relay.wouldWait(logout())).toBe(false)
    const stamped = relay.stamp(logout())
    expect(stamped.request.header!.Authorization).toBe('Bearer at-1')
    await expect(waiting).rejects.toMatchObject({ code: 'LOGGED_OUT' })
    expect(relay.getCredentials()).toBeNull()
    const response = await backend.transport(stamped.request)
    await expect(relay.receive(logout(), backend.transport, { ...stamped, response })).resolves.toMatchObject({ statusCode: 401 })
    release()
    expect(backend.state.logoutCalls).toBe(1)
  })
})

/** A silent login that never answers: makes a login due without one ever finishing. */
function neverAnswers(): Promise<never> {
  return new Promise(() => {})
}

it('without authRequests a login is a request like any other (nothing adopted)', async () => {
  const { relay, send } = relayOnBackend({ logger: quiet })
  await send(login())
  expect(relay.getCredentials()).toBeNull()
})
