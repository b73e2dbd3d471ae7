import { useEffect, useRef, useSyncExternalStore } from 'react'
import type { TokenRelay } from '../../src/index.js'
import { installedRelay } from '../shared/registry.js'
import type { RelayState, RelayStore } from '../shared/state.js'
import { relayStore } from '../shared/state.js'
import type { InstalledRelay, ReturnAfterLogin } from '../shared/types.js'

export type { RelayState } from '../shared/state.js'
export type { InstalledRelay, ReturnAfterLogin } from '../shared/types.js'

/** What `useTokenRelay()` gives a component: the session as state, and what a login page needs. */
export type TokenRelaySession = RelayState & Omit<RelayStore, 'get' | 'subscribe'>

/**
 * The relay the adapter installed (`tokenrelay/taro`, `tokenrelay/wx`…), for what the session state does
 * not cover: `on(...)`, `onReturnAfterLogin(...)`, `isAllowed(...)`. Throws when nothing is installed.
 */
export function useRelay(): InstalledRelay {
  const relay = installedRelay()
  if (!relay) throw new Error('[tokenrelay] useRelay(): no relay installed yet; call install() first (or add tokenrelay/taro/plugin)')
  return relay
}

/**
 * The session as React state: re-renders when the user logs in or out and while a refresh runs. Also what
 * a login page needs: `setCredentials()` after your own login call, then `returnAfterLogin()`.
 * Uses the relay the adapter installed (`tokenrelay/taro`, `tokenrelay/wx`…) unless one is passed.
 * @example const { loggedIn, refreshing, login, logout, setCredentials, returnAfterLogin } = useTokenRelay()
 */
export function useTokenRelay(relay: TokenRelay | undefined = installedRelay()): TokenRelaySession {
  if (!relay) throw new Error('[tokenrelay] useTokenRelay(): no relay installed yet; call install() first or pass a relay')
  const store = relayStore(relay)
  const state = useSyncExternalStore(store.subscribe, store.get, store.get)
  const { login, logout, setCredentials, returnAfterLogin } = store
  return { ...state, login, logout, setCredentials, returnAfterLogin }
}

/**
 * Calls `listener` when `returnAfterLogin()` brings the user back after a login, while the component is
 * mounted: the page that was kept (`via: 'navigateBack'`) reloads what it showed, whose requests failed
 * when the session ended.
 * @example useReturnAfterLogin(({ via }) => via === 'navigateBack' && reload())
 */
export function useReturnAfterLogin(listener: (to: ReturnAfterLogin) => void, relay: InstalledRelay | undefined = installedRelay()): void {
  // The latest listener, without resubscribing on every render.
  const latest = useRef(listener)
  latest.current = listener
  useEffect(() => (relay ? relay.onReturnAfterLogin((to) => latest.current(to)) : undefined), [relay])
}
