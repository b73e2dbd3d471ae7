import type { Credentials, RefreshContext, Transport, TokenStorage } from '../../src/index.js'
import { createTokenRelay } from '../../src/index.js'
import type { NavigationApi } from './login-page.js'
import { loginNavigator } from './login-page.js'
import type { InstalledRelay, PlatformOptions } from './types.js'

/** A platform login code exchanged by the app's server: the engine's `login` strategy. */
export function codeLogin(getCode: () => Promise<string>, exchange: (code: string, ctx: RefreshContext) => Promise<Credentials>) {
  return async (ctx: RefreshContext) => exchange(await getCode(), ctx)
}

let installed: { name: string; relay: InstalledRelay } | undefined

/**
 * The relay an adapter's install() made and has not uninstalled (only if it is adapter `name`'s, when
 * given): what useTokenRelay(), the Vue plugin and the Taro H5 wrapper use by default.
 */
export const installedRelay = (name?: string): InstalledRelay | undefined =>
  installed && (!name || installed.name == name) ? installed.relay : undefined

// Every mini program runtime has a console; declared here because the build has no DOM or Node types.
declare const console: { warn(...args: unknown[]): void }

/** Warns through the user's logger when given, else the console. */
export const warner = (options: PlatformOptions) => (message: string) => (options.logger || console).warn(message)

/**
 * Records `relay` as the installed one; its uninstall() calls the returned release. Two adapters at once
 * (raw wx under Taro, say) would both refresh the same token, so that is warned about.
 */
export function claim(name: string, relay: InstalledRelay, warn: (message: string) => void): () => void {
  if (installed && installed.name != name) warn(`[tokenrelay] ${name} is installed while ${installed.name} already is: install one adapter only`)
  const mine = (installed = { name, relay })
  return () => void (installed = installed == mine ? undefined : installed)
}

/** What every adapter does the same way: defaults, silent login, login page. */
export function platformRelay(
  options: PlatformOptions,
  platform: {
    storage: TokenStorage
    transport: Transport
    getCode?: () => Promise<string>
    nav: () => NavigationApi
    tabBar?: () => string[]
  },
) {
  const { exchange, onSessionExpired } = options
  const navigator = loginNavigator(platform.nav, options, platform.tabBar)
  const relay = createTokenRelay({
    storage: platform.storage,
    transport: platform.transport,
    ...options,
    login: options.login || (exchange && platform.getCode && codeLogin(platform.getCode, exchange)),
    onSessionExpired(error) {
      navigator.onSessionExpired()
      if (onSessionExpired) onSessionExpired(error)
    },
  })
  return { relay, returnAfterLogin: navigator.returnAfterLogin }
}

/** Callback-style platform call → promise. */
export const promisify = <T>(call: (o: { success(r: T): void; fail(e: unknown): void }) => unknown): Promise<T> =>
  new Promise<T>((resolve, reject) => void call({ success: resolve, fail: reject }))
