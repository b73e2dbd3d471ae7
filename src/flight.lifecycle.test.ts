// The flight as a mini program lives it: a mini program's timers stop in the background while the wall clock runs on (wake()), and
// a device that is offline makes a refresh wait for the network instead of failing (network, offlineWaitMs).
// Fake timers are the host's timers: a hidden app is time that passes on the clock with no timer advanced.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { API, fakeBackend, get, quiet, settleAll } from '../test/helpers/fake-backend.js'
import { createTokenRelay } from './index.js'
import type { Clock, NetworkStatus, RelayRequest, TokenRelayOptions } from './index.js'

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000_000_000 })
})
afterEach(() => {
  vi.useRealTimers()
})

/** The host's timers (fake), and a wall clock that also moves while the app is hidden (`away`). */
function host() {
  let away = 0
  const clock: Clock = {
    now: () => Date.now() + away,
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (id) => clearTimeout(id as never),
  }
  return { clock, hide: (ms: number) => void (away += ms) }
}

/** A network the test switches; the transport fails while it is down, as a platform's does. */
function fakeNetwork(up = true) {
  const listeners = new Set<(online: boolean) => void>()
  const status: NetworkStatus = {
    online: () => up,
    onChange: (fn) => (listeners.add(fn), () => void listeners.delete(fn)),
  }
  return {
    status,
    listeners,
    set(value: boolean) {
      up = value
      for (const fn of [...listeners]) fn(value)
    },
    get up() {
      return up
    },
  }
}

function setup(options: TokenRelayOptions = {}, net = fakeNetwork()) {
  const { clock, hide } = host()
  const backend = fakeBackend()
  // The platform's network: its calls fail while the device is offline, refresh calls included.
  const transport = (req: RelayRequest) => (net.up ? backend.transport(req) : Promise.reject(new Error('request:fail offline')))
  const relay = createTokenRelay({
    baseURL: API,
    refresh: backend.refresh,
    transport,
    retry: { attempts: 2, backoffMs: 1 },
    logger: quiet,
    clock,
    network: net.status,
    ...options,
  })
  return { backend, relay, net, hide, send: (req: RelayRequest) => relay.send(req, transport) }
}

/** Where each promise stands now, without waiting for it. */
function track<T>(promises: Promise<T>[]) {
  const settled: unknown[] = []
  for (const p of promises)
    p.then(
      (v) => settled.push(v),
      (e) => settled.push(e),
    )
  return settled
}

describe('wake(): back from the background', () => {
  it('a refresh attempt left hanging while the app was hidden is timed out and retried once at once; its callers settle', async () => {
    const { relay, backend, send, hide } = setup({ retry: { attempts: 0 } })
    await relay.setCredentials(backend.login())
    backend.expireAll()
    backend.state.refreshFaults.push('hang')
    const calls = [send(get('/api/a')), send(get('/api/b'))]
    const settled = track(calls)
    await vi.advanceTimersByTimeAsync(0)
    expect(backend.state.refreshCalls).toBe(1)
    hide(3600_000) // an hour in the background: the 10 s timeout timer never ran
    relay.wake()
    await vi.advanceTimersByTimeAsync(0)
    // The second try spent no retry (attempts: 0) and waited no backoff.
    expect(backend.state.refreshCalls).toBe(2)
    expect(settled).toHaveLength(2)
    await expect(Promise.all(calls)).resolves.toMatchObject([{ statusCode: 200 }, { statusCode: 200 }])
  })

  it('only once: a retry that hangs through another long background fails REFRESH_TIMEOUT, nobody left pending', async () => {
    const { relay, backend, send, hide } = setup({ retry: { attempts: 0 } })
    await relay.setCredentials(backend.login())
    backend.expireAll()
    backend.state.refreshFaults.push('hang', 'hang')
    const calls = [send(get('/api/a')), send(get('/api/b'))]
    const settled = track(calls)
    await vi.advanceTimersByTimeAsync(0)
    hide(3600_000)
    relay.wake()
    await vi.advanceTimersByTimeAsync(0)
    hide(3600_000)
    relay.wake()
    await vi.advanceTimersByTimeAsync(0)
    expect(settled).toHaveLength(2)
    const { rejected } = await settleAll(calls)
    expect(rejected.map((e) => e.code)).toEqual(['REFRESH_TIMEOUT', 'REFRESH_TIMEOUT'])
    expect(backend.state.refreshCalls).toBe(2)
    expect(relay.getCredentials()).not.toBeNull()
  })

  it('a short background (within the timeout) changes nothing: the attempt keeps its timer', async () => {
    const { relay, backend, send, hide } = setup({ retry: { attempts: 0 }, refreshTimeoutMs: 10_000 })
    await relay.setCredentials(backend.login())
    backend.expireAll()
    backend.state.refreshFaults.push('hang')
    const call = send(get('/api/a'))
    const settled = track([call])
    await vi.advanceTimersByTimeAsync(1000)
    hide(2000)
    relay.wake()
    await vi.advanceTimersByTimeAsync(0)
    expect(backend.state.refreshCalls).toBe(1)
    expect(settled).toEqual([])
    await vi.advanceTimersByTimeAsync(9000)
    await expect(call).rejects.toMatchObject({ code: 'REFRESH_TIMEOUT' })
  })

  it('a known expiry that passed while hidden: the refresh starts on wake, and the first requests go out once, with the new token', async () => {
    const { relay, backend, send, hide } = setup()
    await relay.setCredentials(backend.login()) // expires in an hour
    hide(2 * 3600_000)
    backend.expireAll()
    relay.wake()
    await vi.advanceTimersByTimeAsync(0)
    expect(backend.state.refreshCalls).toBe(1)
    await expect(Promise.all([send(get('/api/a')), send(get('/api/b'))])).resolves.toHaveLength(2)
    expect(backend.state.refreshCalls).toBe(1)
    expect(backend.state.hits.filter((h) => h.url.startsWith('/api')).map((h) => h.status)).toEqual([200, 200])
  })

  it('nothing due, logged out, or a refresh already running: wake() starts none', async () => {
    const { relay, backend, hide } = setup()
    relay.wake() // logged out
    await relay.setCredentials(backend.login())
    hide(60_000) // still an hour minus a minute to go
    relay.wake()
    await vi.advanceTimersByTimeAsync(0)
    expect(backend.state.refreshCalls).toBe(0)
    const release = backend.hold('/auth/refresh')
    const running = relay.refresh()
    hide(3 * 3600_000)
    relay.wake()
    release()
    await running
    expect(backend.state.refreshCalls).toBe(1)
  })
})

describe('offline: a refresh waits for the network', () => {
  it('offline: callers wait and no refresh is attempted; back online: one refresh, every caller replayed', async () => {
    const { relay, backend, send, net } = setup()
    await relay.setCredentials(backend.login())
    backend.expireAll()
    // The 401s arrived; the network goes as the refresh starts.
    const off = relay.on('refresh:start', () => (off(), net.set(false)))
    const calls = Array.from({ length: 5 }, (_, i) => send(get(`/api/${i}`)))
    await vi.advanceTimersByTimeAsync(0)
    const more = [send(get('/api/late'))]
    const settled = track([...calls, ...more])
    await vi.advanceTimersByTimeAsync(20_000)
    expect(backend.state.refreshCalls).toBe(0)
    expect(settled).toEqual([])
    net.set(true)
    const answers = await Promise.all([...calls, ...more])
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200, 200, 200, 200])
    expect(backend.state.refreshCalls).toBe(1)
    expect(net.listeners.size).toBe(0)
  })

  it('a known expiry while offline: requests are held before going out, and go once the network is back', async () => {
    const { relay, backend, send, net, hide } = setup()
    await relay.setCredentials(backend.login())
    hide(2 * 3600_000)
    net.set(false)
    const calls = [send(get('/api/a')), send(get('/api/b'))]
    await vi.advanceTimersByTimeAsync(5000)
    expect(backend.state.hits).toEqual([])
    net.set(true)
    await expect(Promise.all(calls)).resolves.toMatchObject([{ statusCode: 200 }, { statusCode: 200 }])
    expect(backend.state.hits.map((h) => [h.url, h.status])).toEqual([
      ['/auth/refresh', 200],
      ['/api/a', 200],
      ['/api/b', 200],
    ])
  })

  it('offline past offlineWaitMs: every caller gets REFRESH_FAILED saying so, credentials kept, no attempt made', async () => {
    const { relay, backend, send, net } = setup({ offlineWaitMs: 30_000 })
    const creds = backend.login()
    await relay.setCredentials(creds)
    backend.expireAll()
    const off = relay.on('refresh:start', () => (off(), net.set(false)))
    const calls = [send(get('/api/a')), send(get('/api/b'))]
    const settled = track(calls)
    await vi.advanceTimersByTimeAsync(29_999)
    expect(settled).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    const { rejected } = await settleAll(calls)
    expect(rejected).toHaveLength(2)
    for (const e of rejected) {
      expect(e).toMatchObject({ code: 'REFRESH_FAILED', transient: true, message: 'the device was offline for 30000 ms' })
    }
    expect(backend.state.refreshCalls).toBe(0)
    expect(relay.getCredentials()).toMatchObject({ accessToken: creds.accessToken })
    expect(net.listeners.size).toBe(0)
  })

  it('the network drops during a refresh: the retry waits for it instead of burning the retries', async () => {
    const { relay, backend, send, net } = setup({ retry: { attempts: 2, backoffMs: 1 } })
    await relay.setCredentials(backend.login())
    backend.expireAll()
    backend.state.refreshFaults.push('network') // the first attempt fails: the line went down
    const call = send(get('/api/a'))
    await vi.advanceTimersByTimeAsync(0)
    net.set(false)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(backend.state.refreshCalls).toBe(1)
    net.set(true)
    await expect(call).resolves.toMatchObject({ statusCode: 200 })
    expect(backend.state.refreshCalls).toBe(2)
  })

  it('a network that cannot tell (undefined) or no network option: the refresh goes at once', async () => {
    for (const network of [{ online: () => undefined, onChange: () => () => {} }, undefined]) {
      const { relay, backend, send } = setup({ network })
      await relay.setCredentials(backend.login())
      backend.expireAll()
      await expect(send(get('/api/a'))).resolves.toMatchObject({ statusCode: 200 })
      expect(backend.state.refreshCalls).toBe(1)
    }
  })
})
