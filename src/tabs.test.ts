// Several relays sharing one storage and one channel: the tabs of an H5 app. The lock and the channel are
// in memory (messages reach the other tabs a tick later, never the sender); the back end is the fake one,
// which accepts only the newest refresh token (a stale one is refused: the session ends).
import { describe, expect, it, vi } from 'vitest'
import { API, fakeBackend, get, quiet, settleAll } from '../test/helpers/fake-backend.js'
import { createTokenRelay, isTokenRelayError, shareTabs } from './index.js'
import { memoryTabs } from '../test/helpers/memory-tabs.js'
import type { CrossTab, TokenRelay, TokenRelayOptions } from './index.js'

function tabsOn(backend: ReturnType<typeof fakeBackend>, n: number, options: TokenRelayOptions & { shared?: boolean } = {}) {
  const b = memoryTabs()
  const { shared = true, ...rest } = options
  const relays: TokenRelay[] = Array.from({ length: n }, () =>
    createTokenRelay({
      baseURL: API,
      refresh: backend.refresh,
      transport: backend.transport,
      storage: b.storage,
      retry: { attempts: 2, backoffMs: 1 },
      logger: quiet,
      ...(shared ? { crossTab: b.crossTab() } : {}),
      ...rest,
    }),
  )
  const send = (relay: TokenRelay, path: string) => relay.send(get(path), backend.transport)
  return { ...b, relays, send }
}

/** Three tabs opened on a logged-in app: each read the pair from storage at start. */
async function threeTabs(shared = true) {
  const backend = fakeBackend()
  const b = memoryTabs()
  b.data.set('tokenrelay', JSON.stringify(backend.login()))
  const t = tabsOn(backend, 0)
  const relays = Array.from({ length: 3 }, () =>
    createTokenRelay({
      baseURL: API,
      refresh: backend.refresh,
      transport: backend.transport,
      storage: b.storage,
      retry: { attempts: 2, backoffMs: 1 },
      logger: quiet,
      ...(shared ? { crossTab: b.crossTab() } : {}),
    }),
  )
  return { backend, ...b, relays, send: t.send }
}

describe('tabs sharing one session (crossTab)', () => {
  it('3 tabs × 10 requests on an expired token: one refresh, 30/30 with the new token, the same credentials everywhere', async () => {
    const { backend, relays, send } = await threeTabs()
    backend.expireAll()
    const calls = relays.flatMap((relay, t) => Array.from({ length: 10 }, (_, i) => send(relay, `/api/${t}-${i}`)))
    const { fulfilled, rejected } = await settleAll(calls)
    expect(rejected).toEqual([])
    expect(fulfilled.map((r) => (r.data as { token: string }).token)).toEqual(Array(30).fill('at-2'))
    expect(backend.state.refreshCalls).toBe(1)
    expect(relays.map((r) => r.getCredentials())).toEqual(Array(3).fill(relays[0].getCredentials()))
    expect(relays[0].getCredentials()).toMatchObject({ accessToken: 'at-2', refreshToken: 'rt-2' })
  })

  it('the same 3 tabs without crossTab: each refreshes with the pair it read, and the stale ones end the session', async () => {
    const { backend, relays, send } = await threeTabs(false)
    backend.expireAll()
    const calls = relays.flatMap((relay, t) => Array.from({ length: 10 }, (_, i) => send(relay, `/api/${t}-${i}`)))
    const { rejected } = await settleAll(calls)
    expect(backend.state.refreshCalls).toBe(3)
    expect(rejected.length).toBe(20)
    expect(rejected.every((e) => isTokenRelayError(e, 'SESSION_EXPIRED'))).toBe(true)
  })

  it('a tab that did not need a refresh adopts the one another tab made: its next request carries it, no 401', async () => {
    const { backend, relays, send } = await threeTabs()
    backend.expireAll()
    await send(relays[0], '/api/first')
    await vi.waitUntil(() => relays[1].getCredentials()?.accessToken === 'at-2' && relays[2].getCredentials()?.accessToken === 'at-2')
    const before = backend.state.hits.length
    await expect(send(relays[1], '/api/next')).resolves.toMatchObject({ statusCode: 200, data: { token: 'at-2' } })
    expect(backend.state.hits.slice(before)).toEqual([{ url: '/api/next', token: 'at-2', status: 200 }])
    expect(backend.state.refreshCalls).toBe(1)
  })

  it('before refreshing, a tab re-reads storage: a newer pair stored there (message missed) is adopted, no refresh', async () => {
    const { backend, data, relays, send } = await threeTabs()
    backend.expireAll()
    data.set('tokenrelay', JSON.stringify(backend.login())) // at-2, written by app code, no message
    await expect(send(relays[0], '/api/x')).resolves.toMatchObject({ data: { token: 'at-2' } })
    expect(backend.state.refreshCalls).toBe(0)
    expect(relays[0].getCredentials()).toMatchObject({ accessToken: 'at-2' })
  })

  it('clear() in one tab logs every tab out: waiters get LOGGED_OUT, next requests carry no token, nobody refreshes', async () => {
    const { backend, relays, send, stats } = await threeTabs()
    backend.expireAll()
    const release = backend.hold('/auth/refresh')
    const waiting = send(relays[1], '/api/waiting')
    await vi.waitUntil(() => relays[1].refreshing)
    await relays[0].clear()
    expect(stats.posts).toContainEqual({ type: 'ended', code: 'LOGGED_OUT' })
    await expect(waiting).rejects.toMatchObject({ code: 'LOGGED_OUT' })
    await vi.waitUntil(() => relays.every((r) => r.getCredentials() === null))
    release()
    const before = backend.state.hits.length
    const calls = await settleAll([send(relays[1], '/api/a'), send(relays[2], '/api/b')])
    expect(calls.rejected.every((e) => isTokenRelayError(e, 'LOGGED_OUT'))).toBe(true)
    expect(backend.state.hits.slice(before).filter((h) => h.url.startsWith('/api'))).toEqual([
      { url: '/api/a', token: undefined, status: 401 },
      { url: '/api/b', token: undefined, status: 401 },
    ])
    await new Promise((r) => setTimeout(r, 10))
    expect(backend.state.refreshCalls).toBeLessThanOrEqual(1) // only tab 1's, held before the logout
  })

  it('a session end in one tab ends it in every tab, each told once (onSessionExpired), and their waiters settle', async () => {
    const backend = fakeBackend()
    const ended: number[] = []
    const b = memoryTabs()
    b.data.set('tokenrelay', JSON.stringify(backend.login()))
    const relays = [0, 1, 2].map((i) =>
      createTokenRelay({
        baseURL: API,
        refresh: backend.refresh,
        storage: b.storage,
        crossTab: b.crossTab(),
        logger: quiet,
        onSessionExpired: () => ended.push(i),
      }),
    )
    backend.expireAll()
    backend.state.refreshFaults.push('invalid_grant')
    const { rejected } = await settleAll([relays[0].send(get('/api/x'), backend.transport)])
    expect(rejected.map((e) => e.code)).toEqual(['SESSION_EXPIRED'])
    await vi.waitUntil(() => ended.length === 3)
    expect(ended.sort()).toEqual([0, 1, 2])
    expect(relays.map((r) => r.getCredentials())).toEqual([null, null, null])
    expect(b.data.has('tokenrelay')).toBe(false)
    expect(backend.state.refreshCalls).toBe(1)
  })

  it('credentials another tab (or the app) stores are picked up by every tab, not ignored until restart', async () => {
    const backend = fakeBackend()
    const { relays, send } = tabsOn(backend, 2)
    await relays[0].setCredentials(backend.login())
    await vi.waitUntil(() => relays[1].getCredentials()?.accessToken === 'at-1')
    await expect(send(relays[1], '/api/x')).resolves.toMatchObject({ data: { token: 'at-1' } })
  })

  it('a tab waiting longer than the bound for another tab’s refresh fails REFRESH_TIMEOUT (transient), keeping its session', async () => {
    const backend = fakeBackend()
    const data = new Map<string, string>([['tokenrelay', JSON.stringify(backend.login())]])
    const stuck: CrossTab = {
      lock: (_name, waitMs) => new Promise((_, reject) => setTimeout(() => reject(new Error('lock wait timed out')), waitMs)),
      post() {},
      listen: () => () => {},
    }
    const relay = createTokenRelay({
      baseURL: API,
      refresh: backend.refresh,
      storage: { get: (k) => data.get(k), set: (k, v) => void data.set(k, v), remove: (k) => void data.delete(k) },
      crossTab: shareTabs(stuck),
      refreshTimeoutMs: 20,
      retry: { attempts: 0, maxBackoffMs: 5 },
      logger: quiet,
    })
    backend.expireAll()
    await expect(relay.send(get('/api/x'), backend.transport)).rejects.toMatchObject({
      code: 'REFRESH_TIMEOUT',
      transient: true,
      message: expect.stringContaining('another tab held the refresh for more than 25 ms'),
    })
    expect(backend.state.refreshCalls).toBe(0)
    expect(relay.getCredentials()).toMatchObject({ accessToken: 'at-1' })
  })
})
