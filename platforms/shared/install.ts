import type { Credentials, RefreshContext, TokenRelay, Transport, TokenStorage } from '../../src/index.js'
import { createTokenRelay } from '../../src/index.js'
import type { NavigationApi } from './login-page.js'
import { loginNavigator } from './login-page.js'
import type { PlatformOptions } from './types.js'

/** A platform login code exchanged by the app's server: the engine's `login` strategy. */
export function codeLogin(getCode: () => Promise<string>, exchange: (code: string, ctx: RefreshContext) => Promise<Credentials>) {
  return async (ctx: RefreshContext) => exchange(await getCode(), ctx)
}

let installed: string | undefined
let current: TokenRelay | undefined

/** The relay the app's adapter created last: what `useTokenRelay()` shows by default. */
export const currentRelay = (): TokenRelay | undefined => current

// Every mini program runtime has a console; declared here because the build has no DOM or Node types.
declare const console: { warn(...args: unknown[]): void }

/** Warns through the user's logger when given, else the console. */
export const warner = (options: PlatformOptions) => (message: string) => (options.logger || console).warn(message)

/**
 * Two adapters at once (raw wx under Taro, say) would both refresh the same token.
 * Returns a release function.
 */
export function claim(name: string, warn: (message: string) => void): () => void {
  if (installed && installed !== name) {
    warn(`[tokenrelay] ${name} is installed while ${installed} already is: requests would be refreshed twice. Install one adapter only.`)
  }
  installed = name
  return () => void (installed = installed === name ? undefined : installed)
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
  const navigator = loginNavigator(platform.nav, options, platform.tabBar)
  const relay = createTokenRelay({
    storage: platform.storage,
    transport: platform.transport,
    ...options,
    login: options.login || (options.exchange && platform.getCode ? codeLogin(platform.getCode, options.exchange) : undefined),
    onSessionExpired(error) {
      navigator.onSessionExpired(error)
      if (options.onSessionExpired) options.onSessionExpired(error)
    },
  })
  current = relay
  return { relay, returnAfterLogin: navigator.returnAfterLogin }
}

/** Callback-style platform call → promise. */
export function promisify<T>(call: (o: { success(r: T): void; fail(e: unknown): void }) => unknown): Promise<T> {
  return new Promise<T>((resolve, reject) => void call({ success: resolve, fail: reject }))
}
