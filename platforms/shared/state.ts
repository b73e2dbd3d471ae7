import type { Credentials, RelayEventName, TokenRelay } from '../../src/index.js'
import type { InstalledRelay } from './types.js'

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
  /** Your own login's credentials (a login page): resolves once stored. */
  setCredentials(credentials: Credentials): Promise<void>
  /** Back to where the session ended (an installed adapter's login page); nothing for a relay without one. */
  returnAfterLogin(): void
}

// `change` covers every credentials change, session end included; the refresh events cover `refreshing`.
const EVENTS: RelayEventName[] = ['change', 'refresh:start', 'refresh:success', 'refresh:failure']
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
  const listeners = new Set<() => void>()
  // Events fire mid-transition (refresh:success before the flight is cleared): read once it settles.
  // Every subscriber registers `update` with the relay; `queued` makes one read of any number of calls.
  const update = () => {
    if (queued) return
    queued = true
    Promise.resolve().then(() => {
      queued = false
      const next = read(relay)
      // Credentials always carry an accessToken, so comparing it covers `loggedIn` too.
      if (next.refreshing === state.refreshing && next.credentials?.accessToken === state.credentials?.accessToken) return
      state = next
      listeners.forEach((fn) => fn())
    })
  }
  store = {
    get: () => state,
    subscribe(listener) {
      listeners.add(listener)
      const offs = EVENTS.map((e) => relay.on(e, update))
      update()
      // Idempotent: the relay's registrations are all the same `update`, so a second off() would remove another's.
      return () => {
        if (listeners.delete(listener)) offs.forEach((off) => off())
      }
    },
    login: () => relay.refresh(),
    logout: () => relay.clear(),
    setCredentials: (credentials) => relay.setCredentials(credentials),
    returnAfterLogin: () => (relay as Partial<InstalledRelay>).returnAfterLogin?.(),
  }
  stores.set(relay, store)
  return store
}
