// relayStore: one store per relay, one read of the relay per tick however many events, `refreshing` cleared
// when a refresh fails, and unsubscribing that is exact (twice is harmless) and leaves nothing behind.
import { describe, expect, it, vi } from 'vitest'
import { createTokenRelay } from '../../src/index.js'
import { relayStore } from './state.js'

const quiet = { log() {}, warn() {} }
const tick = () => new Promise((r) => setTimeout(r, 0))

describe('relayStore', () => {
  it('is one store per relay', () => {
    const relay = createTokenRelay({ logger: quiet })
    expect(relayStore(relay)).toBe(relayStore(relay))
    expect(relayStore(createTokenRelay({ logger: quiet }))).not.toBe(relayStore(relay))
  })

  it('reads the relay once per tick, however many events fired in it', async () => {
    const relay = createTokenRelay({ logger: quiet })
    const store = relayStore(relay)
    const listener = vi.fn()
    store.subscribe(listener)
    await tick()
    const reads = vi.spyOn(relay, 'getCredentials')
    void relay.setCredentials({ accessToken: 'a' })
    void relay.setCredentials({ accessToken: 'b' })
    void relay.clear()
    void relay.setCredentials({ accessToken: 'c' })
    await tick()
    expect(reads).toHaveBeenCalledTimes(1)
    expect(listener).toHaveBeenCalledTimes(1)
    expect(store.get()).toMatchObject({ loggedIn: true, credentials: { accessToken: 'c' } })
  })

  it('a refresh that fails leaves `refreshing` false', async () => {
    const relay = createTokenRelay({ logger: quiet, retry: { attempts: 0 }, refresh: () => Promise.reject(new Error('offline')) })
    await relay.setCredentials({ accessToken: 'a', refreshToken: 'rt' })
    const store = relayStore(relay)
    const states: boolean[] = []
    store.subscribe(() => states.push(store.get().refreshing))
    await tick()
    await relay.refresh().catch(() => {})
    await tick()
    expect(store.get()).toMatchObject({ refreshing: false, loggedIn: true })
  })

  it('unsubscribing is exact: twice removes nothing of another subscriber, and the last one leaves no listener on the relay', async () => {
    const relay = createTokenRelay({ logger: quiet })
    const store = relayStore(relay)
    const a = vi.fn()
    const b = vi.fn()
    const offA = store.subscribe(a)
    const offB = store.subscribe(b)
    await tick()
    offA()
    offA()
    await relay.setCredentials({ accessToken: 'x' })
    await tick()
    expect(a).not.toHaveBeenCalled()
    expect(b).toHaveBeenCalledTimes(1)
    offB()
    const reads = vi.spyOn(relay, 'getCredentials')
    await relay.setCredentials({ accessToken: 'y' })
    await tick()
    expect(reads).not.toHaveBeenCalled()
  })
})
