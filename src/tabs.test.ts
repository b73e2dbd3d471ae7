// Several relays sharing one storage and one channel: the tabs of an H5 app. The lock and the channel are
// in memory (messages reach the other tabs a tick later, never the sender); the back end is the fake one,
// which accepts only the newest refresh token (a stale one is refused: the session ends).
import { describe, expect, it, vi } from 'vitest'
import { API, fakeBackend, get, quiet, settleAll } from '../test/helpers/fake-backend.js'
import { createTokenRelay, isTokenRelayError, shareTabs } from './index.js'
import { memoryTabs } from '../test/helpers/memory-tabs.js'
import type { CrossTab, TabMessage, TokenRelay, TokenRelayOptions } from './index.js'

type Backend = ReturnType<typeof fakeBackend>

/** One tab: a relay on the shared storage, with the tabs' crossTab unless `shared` is false. */
function tab(b: ReturnType<typeof memoryTabs>, backend: Backend, shared = true, options: TokenRelayOptions = {}) {
  return createTokenRelay({
    baseURL: API,
    refresh: backend.refresh,
    transport: backend.transport,
    storage: b.storage,
    retry: { attempts: 2, backoffMs: 1 },
    logger: quiet,
    ...(shared ? { crossTab: b.crossTab() } : {}),
    ...options,
  })
}

function tabsOn(backend: Backend, n: number) {
  const b = memoryTabs()
  const relays: TokenRelay[] = Array.from({ length: n }, () => tab(b, backend))
  const send = (relay: TokenRelay, path: string) => relay.send(get(path), backend.transport)
  return { ...b, relays, send }
}

/** Three tabs opened on a logged-in app: each read the pair from storage at start. */
async function threeTabs(shared = true, options: TokenRelayOptions = {}) {
  const backend = fakeBackend()
  const b = memoryTabs()
  b.data.set('tokenrelay', JSON.stringify(backend.login()))
  const relays = Array.from({ length: 3 }, () => tab(b, backend, shared, options))
  const send = (relay: TokenRelay, path: string) => relay.send(get(path), backend.transport)
  return { backend, ...b, relays, send }
}

/**
 * One tab whose other tabs the test plays by hand: `deliver` hands it a message, `release` lets the lock go
 * (held until then), `names` are the lock names it asked for.
 */
function handTab(backend: Backend, data: Map<string, unknown>, options: TokenRelayOptions = {}) {
  let listener: (m: TabMessage) => void = () => {}
  let release = () => {}
  const held = new Promise<void>((r) => (release = r))
  const names: string[] = []
  const posts: TabMessage[] = []
  const relay = createTokenRelay({
    baseURL: API,
    refresh: backend.refresh,
    transport: backend.transport,
    storage: { get: (k) => data.get(k) as string, set: (k, v) => void data.set(k, v), remove: (k) => void data.delete(k) },
    retry: { attempts: 0 },
    logger: quiet,
    crossTab: shareTabs({
      lock: async (name, _waitMs, fn) => (names.push(name), await held, fn()),
      post: (m) => void posts.push(m),
      listen: (fn) => ((listener = fn), () => {}),
    }),
    ...options,
  })
  return { relay, deliver: (m: TabMessage) => listener(m), release, names, posts }
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

  it('credentials the other tab stored while this one waits for the lock settle its flight at once: no refresh of its own', async () => {
    const backend = fakeBackend()
    const data = new Map<string, unknown>([['tokenrelay', JSON.stringify(backend.login())]])
    const { relay, deliver, release, names } = handTab(backend, data)
    backend.expireAll()
    const waiting = relay.send(get('/api/x'), backend.transport)
    await vi.waitUntil(() => relay.refreshing)
    data.set('tokenrelay', JSON.stringify(backend.login())) // at-2, from the tab holding the lock
    const changes = vi.fn()
    relay.on('change', changes)
    deliver({ type: 'stored' })
    await expect(waiting).resolves.toMatchObject({ data: { token: 'at-2' } })
    expect(names).toEqual(['tokenrelay:tokenrelay'])
    release() // the flight's turn comes: the stored pair is the one it already adopted, nothing changes again
    await new Promise((r) => setTimeout(r, 10))
    expect(backend.state.refreshCalls).toBe(0)
    expect(changes).toHaveBeenCalledTimes(1)
  })

  it('a "stored" message with the pair this tab already has leaves its running refresh alone', async () => {
    const backend = fakeBackend()
    const data = new Map<string, unknown>([['tokenrelay', JSON.stringify(backend.login())]])
    const { relay, deliver, release } = handTab(backend, data)
    backend.expireAll()
    const hold = backend.hold('/auth/refresh')
    release()
    const waiting = relay.send(get('/api/x'), backend.transport)
    await vi.waitUntil(() => backend.state.hits.length === 1)
    const changes = vi.fn()
    relay.on('change', changes)
    deliver({ type: 'stored' }) // the stored pair is the one this tab holds
    await new Promise((r) => setTimeout(r, 10))
    hold()
    await expect(waiting).resolves.toMatchObject({ data: { token: 'at-2' } })
    expect(relay.getCredentials()).toMatchObject({ accessToken: 'at-2' })
    expect(changes).toHaveBeenCalledTimes(1) // the refresh's, not one for the message
  })

  it('the stored pair is re-read before refreshing: objects as stored, garbage and corrupt JSON ignored (this tab refreshes)', async () => {
    for (const [stored, refreshes] of [
      [null, 0], // set below to a newer pair, as an object (storages that keep objects)
      ['{"foo":1}', 1],
      ['{', 1],
    ] as const) {
      const backend = fakeBackend()
      const data = new Map<string, unknown>([['tokenrelay', JSON.stringify(backend.login())]])
      const { relay, release } = handTab(backend, data)
      backend.expireAll()
      data.set('tokenrelay', stored === null ? backend.login() : stored)
      release()
      await expect(relay.send(get('/api/x'), backend.transport)).resolves.toMatchObject({ statusCode: 200 })
      expect(backend.state.refreshCalls, String(stored)).toBe(refreshes)
    }
  })

  it('a re-read that hangs is waited for at most storageTimeoutMs, then this tab refreshes itself', async () => {
    const backend = fakeBackend()
    const data = new Map<string, unknown>([['tokenrelay', JSON.stringify(backend.login())]])
    const hang = { on: false }
    const storage = {
      get: (k: string) => (hang.on ? new Promise<string>(() => {}) : (data.get(k) as string)),
      set: (k: string, v: string) => void data.set(k, v),
      remove: (k: string) => void data.delete(k),
    }
    const { relay, release } = handTab(backend, data, { storage, storageTimeoutMs: 30 })
    backend.expireAll()
    hang.on = true
    release()
    await expect(relay.send(get('/api/x'), backend.transport)).resolves.toMatchObject({ data: { token: 'at-2' } })
    expect(backend.state.refreshCalls).toBe(1)
  })

  it('what another tab says: a logout is LOGGED_OUT and opens no login page; a session end is SESSION_EXPIRED, told once, never echoed', async () => {
    for (const code of ['LOGGED_OUT', 'SESSION_EXPIRED'] as const) {
      const backend = fakeBackend()
      const data = new Map<string, unknown>([['tokenrelay', JSON.stringify(backend.login())]])
      const ended = vi.fn()
      const { relay, deliver, posts } = handTab(backend, data, { onSessionExpired: ended })
      backend.expireAll()
      const waiting = relay.send(get('/api/x'), backend.transport)
      await vi.waitUntil(() => relay.refreshing)
      deliver({ type: 'ended', code })
      await expect(waiting).rejects.toMatchObject({
        code,
        message: code === 'LOGGED_OUT' ? 'logged out in another tab' : 'the session ended in another tab',
      })
      expect(relay.getCredentials()).toBeNull()
      expect(ended).toHaveBeenCalledTimes(code === 'LOGGED_OUT' ? 0 : 1)
      deliver({ type: 'ended', code: 'SESSION_EXPIRED' }) // already over here: nothing more
      expect(ended).toHaveBeenCalledTimes(code === 'LOGGED_OUT' ? 0 : 1)
      expect(posts.filter((m) => m.type === 'ended')).toEqual([]) // heard, not said again
    }
  })
})
