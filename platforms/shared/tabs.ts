// The browser's side of `crossTab` (H5 builds of Taro and uni-app): Web Locks for the one refresh between
// tabs (a lease in localStorage where there are none), BroadcastChannel for the messages (the `storage`
// event where there is none), and the `storage` event for credentials someone else wrote under the key.
import { shareTabs } from '../../src/index.js'
import type { CrossTab, SharedTabs, TabMessage } from '../../src/index.js'

/** A CrossTab that can stop listening (uninstall), and knows whether the user is looking at this tab. */
export interface BrowserTabs extends CrossTab {
  /** This CrossTab as the engine's `crossTab` option. */
  shared: SharedTabs
  /** Runs `fn` now if the tab is visible (or visibility is unknown), else the first time it becomes visible. */
  whenSeen(fn: () => void): void
  close(): void
}

type Listener = (message: TabMessage) => void
type Handler = (event: any) => void // eslint-disable-line @typescript-eslint/no-explicit-any
interface Store {
  getItem(key: string): string | null
  setItem(key: string, value: string): void
  removeItem(key: string): void
}
interface Events {
  addEventListener(type: string, fn: Handler): void
  removeEventListener(type: string, fn: Handler): void
}
/** What this file reads of a browser (the library is typed without the DOM). */
interface Browser extends Partial<Events> {
  localStorage?: Store
  navigator?: { locks?: { request<T>(name: string, options: { signal?: unknown }, fn: () => Promise<T>): Promise<T> } }
  BroadcastChannel?: new (name: string) => { postMessage(m: unknown): void; close(): void; onmessage: Handler | null }
  AbortSignal?: { timeout?(ms: number): unknown }
  document?: Events & { visibilityState?: string }
}
interface Lease {
  id: string
  until: number
}

const sleep = (ms: number) => new Promise((wake) => setTimeout(wake, ms))

/**
 * A lock held as a lease in localStorage: taken when free or expired, confirmed after a pause (two tabs that
 * wrote at once: the last write wins), given back when `fn` settles. A tab that dies holding it blocks the
 * others until the lease runs out: `waitMs`, the longest a refresh can take.
 */
async function lease<T>(store: Store, name: string, waitMs: number, fn: () => Promise<T>): Promise<T> {
  const id = Math.random().toString(36).slice(2)
  const read = (): Lease | null => {
    try {
      return JSON.parse(store.getItem(name) || 'null')
    } catch {
      return null
    }
  }
  for (const giveUp = Date.now() + waitMs; ; await sleep(50)) {
    const held = read()
    if (!held || held.until < Date.now()) {
      store.setItem(name, JSON.stringify({ id, until: Date.now() + waitMs }))
      await sleep(30)
      if (read()?.id === id) break
    } else if (Date.now() > giveUp) throw new Error(`lock ${name} not granted within ${waitMs} ms`)
  }
  try {
    return await fn()
  } finally {
    if (read()?.id === id) store.removeItem(name)
  }
}

/**
 * The browser's CrossTab for credentials stored under `storageKey`, or undefined where tabs cannot share
 * (no localStorage, or neither Web Locks nor BroadcastChannel: then each tab keeps its own, as before).
 */
export function browserTabs(storageKey: string): BrowserTabs | undefined {
  const g = globalThis as unknown as Browser
  let store: Store | undefined
  try {
    store = g.localStorage
  } catch {
    // Storage disabled (a sandboxed frame): no sharing.
  }
  const locks = g.navigator && g.navigator.locks
  const Channel = g.BroadcastChannel
  const on = g.addEventListener && g.removeEventListener ? (g as Events) : undefined
  if (!store || !on || (!locks && !Channel)) return undefined

  const listeners = new Set<Listener>()
  const deliver = (message: TabMessage) => listeners.forEach((fn) => fn(message))
  const channel = Channel && new Channel(`tokenrelay:${storageKey}`)
  if (channel) channel.onmessage = (event: { data: TabMessage }) => deliver(event.data)
  // Without a channel, messages travel as writes to this key (the `storage` event fires in the other tabs).
  const noteKey = `${storageKey}:tab`
  const onStorage = (event: { key: string | null; newValue: string | null }) => {
    if (event.key === storageKey && event.newValue != null) deliver({ type: 'stored' })
    else if (!channel && event.key === noteKey && event.newValue) deliver(JSON.parse(event.newValue).message)
  }
  on.addEventListener('storage', onStorage)
  const doc = g.document
  const hidden = () => !!doc && doc.visibilityState === 'hidden'

  const tabs: Omit<BrowserTabs, 'shared'> = {
    lock: (name, waitMs, fn) =>
      locks
        ? locks.request(name, g.AbortSignal && g.AbortSignal.timeout ? { signal: g.AbortSignal.timeout(waitMs) } : {}, fn)
        : lease(store!, name, waitMs, fn),
    post(message) {
      if (channel) channel.postMessage(message)
      else store!.setItem(noteKey, JSON.stringify({ message, nonce: Math.random() }))
    },
    listen(fn) {
      listeners.add(fn)
      return () => void listeners.delete(fn)
    },
    whenSeen(fn) {
      if (!hidden()) return fn()
      const seen = () => {
        if (hidden()) return
        doc!.removeEventListener('visibilitychange', seen)
        fn()
      }
      doc!.addEventListener('visibilitychange', seen)
    },
    close() {
      listeners.clear()
      if (channel) channel.close()
      on.removeEventListener('storage', onStorage)
    },
  }
  return { ...tabs, shared: shareTabs(tabs) }
}
