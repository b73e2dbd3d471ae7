import type { App, ComputedRef, InjectionKey } from 'vue'
import { computed, getCurrentScope, hasInjectionContext, inject, onScopeDispose, shallowRef } from 'vue'
import type { Credentials, TokenRelay as Relay } from '../../src/index.js'
import { relayStore } from '../shared/state.js'
import type { InstalledRelay, PlatformOptions } from './adapter.js'
import { install, installedRelay } from './adapter.js'

/** What `app.use(TokenRelay, options)` provides to every component. */
export const RELAY_KEY: InjectionKey<InstalledRelay> = Symbol('tokenrelay')

/**
 * The Vue plugin: installs the uni-app adapter (`install(options)`) once, when the app is created, and
 * provides the relay to components (`useRelay()`, `useTokenRelay()`, `this.$relay`).
 * @example
 * // src/main.ts
 * const app = createSSRApp(App)
 * app.use(TokenRelay, { baseURL: 'https://api.example.com', refresh, exchange, loginPage: '/pages/login/index' })
 */
export const TokenRelay = {
  install(app: App, options: PlatformOptions = {}): void {
    const relay = install(options)
    app.provide(RELAY_KEY, relay)
    app.config.globalProperties.$relay = relay
  },
}

/**
 * The installed relay: the one the app provided, else the one `install()` made last. For what the session
 * state does not cover: `setCredentials()` after your own login, `returnAfterLogin()`, `on(...)`.
 */
export function useRelay(): InstalledRelay {
  const relay = (hasInjectionContext() && inject(RELAY_KEY, null)) || installedRelay()
  if (!relay) throw new Error('[tokenrelay] nothing installed: call app.use(TokenRelay, options) in src/main.ts')
  return relay
}

/** The session as Vue refs: destructure it (`const { loggedIn } = useTokenRelay()`), templates unwrap them. */
export interface TokenRelaySession {
  loggedIn: ComputedRef<boolean>
  refreshing: ComputedRef<boolean>
  credentials: ComputedRef<Credentials | null>
  /** Refresh, or log in silently (`exchange`/`login`), under the relay's single flight. */
  login(): Promise<Credentials>
  /** Forget the credentials; waiting requests fail with `LOGGED_OUT`. */
  logout(): Promise<void>
}

/**
 * The session as reactive state: updates when the user logs in or out and while a refresh runs.
 * Uses the provided relay unless one is passed. In a component (or any effect scope) it stops listening
 * when the scope ends.
 * @example const { loggedIn, refreshing, login, logout } = useTokenRelay()
 */
export function useTokenRelay(relay?: Relay): TokenRelaySession {
  const store = relayStore(relay || useRelay())
  const state = shallowRef(store.get())
  const off = store.subscribe(() => {
    state.value = store.get()
  })
  if (getCurrentScope()) onScopeDispose(off)
  return {
    loggedIn: computed(() => state.value.loggedIn),
    refreshing: computed(() => state.value.refreshing),
    credentials: computed(() => state.value.credentials),
    login: store.login,
    logout: store.logout,
  }
}

declare module 'vue' {
  interface ComponentCustomProperties {
    /** The relay `app.use(TokenRelay, options)` installed. */
    $relay: InstalledRelay
  }
}
