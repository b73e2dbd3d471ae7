import type { App, ComputedRef, InjectionKey } from 'vue'
import { computed, getCurrentScope, hasInjectionContext, inject, onScopeDispose, shallowRef } from 'vue'
import type { Credentials, TokenRelay as Relay } from '../../src/index.js'
import { asPlugin, callSite } from '../shared/registry.js'
import { relayStore } from '../shared/state.js'
import type { ReturnAfterLogin } from '../shared/types.js'
import type { InstalledRelay, PlatformOptions } from './adapter.js'
import { installUni, installedRelay } from './adapter.js'

/** What `app.use(TokenRelayPlugin, options)` provides to every component. */
export const RELAY_KEY: InjectionKey<InstalledRelay> = Symbol('tokenrelay')

/**
 * The Vue plugin: installs the uni-app adapter (`install(options)`) when the app is created, and provides
 * the relay to components (`useRelay()`, `useTokenRelay()`, `this.$relay`). With `tokenrelay/uniapp/vite`
 * in vite.config.ts the build already does this: an `app.use` of your own replaces the plugin's install
 * (with a warning).
 * @example
 * // src/main.ts
 * const app = createSSRApp(App)
 * app.use(TokenRelayPlugin, { baseURL: 'https://api.example.com', refresh, exchange, loginPage: '/pages/login/index' })
 */
export const TokenRelayPlugin = {
  install(app: App, options: PlatformOptions = {}): void {
    // Two frames up: Vue's app.use, then the app's own line.
    const relay = installUni(options, { site: callSite(2), call: 'app.use(TokenRelayPlugin, options)' })
    // Assigned, not provide()d: a second install (the Vite plugin's, then the app's own) replaces the first
    // without Vue's "already provides" warning; the registry has said what happened.
    app._context.provides[RELAY_KEY as symbol] = relay
    app.config.globalProperties.$relay = relay
  },
}

/**
 * The Vue plugin's former name, kept working.
 * @deprecated Use `TokenRelayPlugin` (`TokenRelay` is also the name of the relay's type in `tokenrelay`).
 */
export const TokenRelay = TokenRelayPlugin

/**
 * @internal What `tokenrelay/uniapp/vite` injects after `createSSRApp(...)`: `TokenRelayPlugin`, as a
 * separate object so that Vue also runs an `app.use(TokenRelayPlugin, options)` the app calls itself
 * (Vue skips a plugin it has seen), and marked, so that one is reported as replacing the build's.
 */
export const injectedPlugin = {
  install: (app: App, options: PlatformOptions = {}): void =>
    asPlugin({ by: 'tokenrelay/uniapp/vite' }, () => TokenRelayPlugin.install(app, options)),
}

/**
 * The installed relay: the one the app provided, else the one `install()` made last. For what the session
 * state does not cover: `on(...)`, `isAllowed(...)`, `getCredentials()`.
 */
export function useRelay(): InstalledRelay {
  const relay = (hasInjectionContext() && inject(RELAY_KEY, null)) || installedRelay()
  if (!relay) throw new Error('[tokenrelay] nothing installed: call app.use(TokenRelayPlugin, options) in src/main.ts')
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
  /** After your own login call (a login page): store its credentials. Resolves once stored. */
  setCredentials(credentials: Credentials): Promise<void>
  /** Then back to the page the session ended on (`navigateBack` when it is right below the login page). */
  returnAfterLogin(): void
}

/**
 * The session as reactive state: updates when the user logs in or out and while a refresh runs. Also what
 * a login page needs: `setCredentials()` after your own login call, then `returnAfterLogin()`.
 * Uses the provided relay unless one is passed. In a component (or any effect scope) it stops listening
 * when the scope ends.
 * @example const { loggedIn, refreshing, login, logout, setCredentials, returnAfterLogin } = useTokenRelay()
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
    setCredentials: store.setCredentials,
    returnAfterLogin: store.returnAfterLogin,
  }
}

/**
 * Calls `listener` when `returnAfterLogin()` brings the user back after a login: the page that was kept
 * (`via: 'navigateBack'`) reloads what it showed, whose requests failed when the session ended. In a
 * component (or any effect scope) it stops when the scope ends; it also returns the function that stops it.
 * @example onReturnAfterLogin(({ via }) => via === 'navigateBack' && load())
 */
export function onReturnAfterLogin(listener: (to: ReturnAfterLogin) => void, relay: InstalledRelay = useRelay()): () => void {
  const off = relay.onReturnAfterLogin(listener)
  if (getCurrentScope()) onScopeDispose(off)
  return off
}

declare module 'vue' {
  interface ComponentCustomProperties {
    /** The relay `app.use(TokenRelayPlugin, options)` installed. */
    $relay: InstalledRelay
  }
}
