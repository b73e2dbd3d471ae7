// The browser's CrossTab (browserTabs) under Node, with the browser's globals stubbed per tab: one
// localStorage shared by the tabs, each tab its own window events; BroadcastChannel is Node's own.
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { TabMessage } from '../../src/index.js'
import { browserTabs } from './tabs.js'

type Handler = (event: any) => void

function sharedStorage() {
  const data = new Map<string, string>()
  return {
    data,
    getItem: (k: string) => (data.has(k) ? data.get(k)! : null),
    setItem: (k: string, v: string) => void data.set(k, String(v)),
    removeItem: (k: string) => void data.delete(k),
  }
}

/** A window for one tab: its own listeners, the shared storage; `fire` delivers a storage event to it. */
function windowFor(localStorage: ReturnType<typeof sharedStorage>, extra: Record<string, unknown> = {}) {
  const listeners = new Map<string, Set<Handler>>()
  const win = {
    localStorage,
    addEventListener: (type: string, fn: Handler) => void (listeners.get(type) || listeners.set(type, new Set()).get(type)!).add(fn),
    removeEventListener: (type: string, fn: Handler) => void listeners.get(type)?.delete(fn),
    fire: (type: string, event: object) => listeners.get(type)?.forEach((fn) => fn(event)),
    count: (type: string) => listeners.get(type)?.size || 0,
    ...extra,
  }
  for (const [name, value] of Object.entries(win)) vi.stubGlobal(name, value)
  return win
}

afterEach(() => {
  vi.unstubAllGlobals()
})

describe('browserTabs', () => {
  it('is undefined where tabs cannot share: no localStorage, or neither Web Locks nor BroadcastChannel', () => {
    vi.stubGlobal('localStorage', undefined)
    expect(browserTabs('tokenrelay')).toBeUndefined()
    windowFor(sharedStorage(), { BroadcastChannel: undefined, navigator: {} })
    expect(browserTabs('tokenrelay')).toBeUndefined()
  })

  it('without Web Locks, a lease in localStorage: two tabs never run at once, both run, the lease is given back', async () => {
    const store = sharedStorage()
    windowFor(store, { navigator: {} })
    const a = browserTabs('k')!
    windowFor(store, { navigator: {} })
    const b = browserTabs('k')!
    let running = 0
    let most = 0
    const work = (label: string) => async () => {
      most = Math.max(most, ++running)
      await new Promise((r) => setTimeout(r, 40))
      running--
      return label
    }
    await expect(Promise.all([a.lock('tokenrelay:k', 2_000, work('a')), b.lock('tokenrelay:k', 2_000, work('b'))])).resolves.toEqual([
      'a',
      'b',
    ])
    expect(most).toBe(1)
    expect(store.data.has('tokenrelay:k')).toBe(false)
    a.close()
    b.close()
  })

  it('a lease left by a tab that died is taken once it runs out, not before', async () => {
    const store = sharedStorage()
    windowFor(store, { navigator: {} })
    const tab = browserTabs('k')!
    const started = Date.now()
    store.setItem('tokenrelay:k', JSON.stringify({ id: 'dead', until: started + 300 }))
    await expect(tab.lock('tokenrelay:k', 2_000, async () => Date.now() - started)).resolves.toBeGreaterThanOrEqual(300)
    // Held and never given back within the wait: the lock is refused, fn never runs.
    store.setItem('tokenrelay:k', JSON.stringify({ id: 'live', until: Date.now() + 10_000 }))
    const fn = vi.fn(async () => 'ran')
    await expect(tab.lock('tokenrelay:k', 150, fn)).rejects.toThrow('not granted within 150 ms')
    expect(fn).not.toHaveBeenCalled()
    tab.close()
  })

  it('Web Locks when there are: the request names the lock and carries a timeout signal', async () => {
    const request = vi.fn((_name: string, _options: { signal?: unknown }, fn: () => Promise<string>) => fn())
    const timeout = vi.fn((ms: number) => ({ ms }))
    windowFor(sharedStorage(), { navigator: { locks: { request } }, AbortSignal: { timeout } })
    const tab = browserTabs('k')!
    await expect(tab.lock('tokenrelay:k', 1234, async () => 'done')).resolves.toBe('done')
    expect(request).toHaveBeenCalledWith('tokenrelay:k', { signal: { ms: 1234 } }, expect.any(Function))
    tab.close()
  })

  it('messages go over BroadcastChannel to the other tabs, not back to the sender', async () => {
    const store = sharedStorage()
    windowFor(store, { navigator: {} })
    const a = browserTabs('k')!
    windowFor(store, { navigator: {} })
    const b = browserTabs('k')!
    const heardA: TabMessage[] = []
    const heardB: TabMessage[] = []
    a.listen((m) => heardA.push(m))
    b.listen((m) => heardB.push(m))
    a.post({ type: 'ended', code: 'LOGGED_OUT' })
    await vi.waitUntil(() => heardB.length === 1)
    expect(heardB).toEqual([{ type: 'ended', code: 'LOGGED_OUT' }])
    expect(heardA).toEqual([])
    a.close()
    b.close()
  })

  it('without BroadcastChannel, messages travel as storage events; a write of the credentials key by anyone says "stored"', () => {
    const store = sharedStorage()
    const locks = { request: (_n: string, _o: object, fn: () => Promise<unknown>) => fn() }
    windowFor(store, { BroadcastChannel: undefined, navigator: { locks } })
    const a = browserTabs('k')!
    const winB = windowFor(store, { BroadcastChannel: undefined, navigator: { locks } })
    const b = browserTabs('k')!
    const heard: TabMessage[] = []
    b.listen((m) => heard.push(m))
    a.post({ type: 'ended', code: 'SESSION_EXPIRED' })
    // The browser fires `storage` in the other tabs for a write: here, by hand, with what was written.
    winB.fire('storage', { key: 'k:tab', newValue: store.getItem('k:tab') })
    winB.fire('storage', { key: 'k', newValue: '{"accessToken":"x"}' })
    winB.fire('storage', { key: 'k', newValue: null }) // a removal alone says nothing: the 'ended' message does
    winB.fire('storage', { key: 'other', newValue: 'x' })
    expect(heard).toEqual([{ type: 'ended', code: 'SESSION_EXPIRED' }, { type: 'stored' }])
    b.close()
    expect(winB.count('storage')).toBe(0)
    winB.fire('storage', { key: 'k', newValue: '{}' })
    expect(heard).toHaveLength(2)
    a.close()
  })

  it('whenSeen runs now in a visible tab, and in a hidden one only when it is shown, once', () => {
    const events = new Map<string, Handler>()
    const doc = {
      visibilityState: 'hidden',
      addEventListener: (t: string, fn: Handler) => void events.set(t, fn),
      removeEventListener: (t: string) => void events.delete(t),
    }
    windowFor(sharedStorage(), { navigator: {}, document: doc })
    const tab = browserTabs('k')!
    const fn = vi.fn()
    tab.whenSeen(fn)
    expect(fn).not.toHaveBeenCalled()
    events.get('visibilitychange')!({})
    expect(fn).not.toHaveBeenCalled() // still hidden
    doc.visibilityState = 'visible'
    events.get('visibilitychange')!({})
    expect(fn).toHaveBeenCalledTimes(1)
    expect(events.has('visibilitychange')).toBe(false)
    tab.whenSeen(fn)
    expect(fn).toHaveBeenCalledTimes(2)
    tab.close()
  })
})
