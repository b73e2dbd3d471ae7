import { useSyncExternalStore } from 'react'
import type { TokenRelay } from '../../src/index.js'
import { installedRelay } from '../shared/registry.js'
import type { RelayState } from '../shared/state.js'
import { relayStore } from '../shared/state.js'

export type { RelayState } from '../shared/state.js'

/**
 * The session as React state: re-renders when the user logs in or out and while a refresh runs.
 * Uses the relay the adapter installed (`tokenrelay/taro`, `tokenrelay/wx`…) unless one is passed.
 * @example const { loggedIn, refreshing, login, logout } = useTokenRelay()
 */
export function useTokenRelay(relay: TokenRelay | undefined = installedRelay()): RelayState & {
  login: () => Promise<unknown>
  logout: () => Promise<void>
} {
  if (!relay) throw new Error('[tokenrelay] useTokenRelay(): no relay installed yet; call install() first or pass a relay')
  const store = relayStore(relay)
  const state = useSyncExternalStore(store.subscribe, store.get, store.get)
  return { ...state, login: store.login, logout: store.logout }
}
