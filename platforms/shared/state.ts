import type { Credentials, RelayEventName, TokenRelay } from '../../src/index.js'

/** What a UI shows about the session. */
export interface RelayState {
  loggedIn: boolean
  refreshing: boolean
  credentials: Credentials | null
}

export interface RelayStore {
  /** The same object until something changes, as React's useSyncExternalStore requires. */
  get(): RelayState
  subscribe(listener: () => void): () => void
  /** Refresh, or log in silently (`login`/`exchange`), under the relay's single flight. */
  login(): Promise<Credentials>
  logout(): Promise<void>
}

const EVENTS: RelayEventName[] = ['change', 'refresh:start', 'refresh:success', 'refresh:failure', 'session-expired']
const stores = new WeakMap<TokenRelay, RelayStore>()

function read(relay: TokenRelay): RelayState {
  const credentials = relay.getCredentials()
  return { loggedIn: !!credentials, refreshing: relay.refreshing, credentials }
}

/** One store per relay, shared by every component that shows it. */
export function relayStore(relay: TokenRelay): RelayStore {
  let store = stores.get(relay)
  if (store) return store
  let state = read(relay)
  let queued = false
  const listeners: (() => void)[] = []
  let offs: (() => void)[] = []
  // Events fire mid-transition (refresh:success before the flight is cleared): read once it settles.
  const update = () => {
    if (queued) return
    queued = true
    Promise.resolve().then(() => {
      queued = false
      const next = read(relay)
      if (next.loggedIn === state.loggedIn && next.refreshing === state.refreshing && next.credentials?.accessToken === state.credentials?.accessToken) return
      state = next
      for (const fn of listeners.slice()) fn()
    })
  }
  store = {
    get: () => state,
    subscribe(listener) {
      listeners.push(listener)
      if (listeners.length === 1) offs = EVENTS.map((e) => relay.on(e, update))
      update()
      return () => {
        const i = listeners.indexOf(listener)
        if (i >= 0) listeners.splice(i, 1)
        if (!listeners.length) offs.forEach((off) => off())
      }
    },
    login: () => relay.refresh(),
    logout: () => relay.clear(),
  }
  stores.set(relay, store)
  return store
}
