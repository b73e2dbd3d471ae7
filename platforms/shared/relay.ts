import type { TokenStorage, Transport } from '../../src/index.js'
import { createTokenRelay } from '../../src/index.js'
import type { NavigationApi } from './login-page.js'
import { loginNavigator } from './login-page.js'
import { codeLogin } from './login.js'
import { reporter } from './report.js'
import type { PlatformOptions } from './types.js'

/** What every adapter does the same way: defaults, silent login, login page. */
export function platformRelay(
  options: PlatformOptions,
  platform: {
    storage: TokenStorage
    transport: Transport
    /** The platform's silent login code (`wx.login`…): undefined when it gave none. */
    getCode?: () => Promise<string | undefined>
    nav: () => NavigationApi
    tabBar?: () => string[]
  },
) {
  const { exchange, onSessionExpired } = options
  const navigator = loginNavigator(platform.nav, options, reporter(options), platform.tabBar)
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
  return { relay, returnAfterLogin: navigator.returnAfterLogin, onReturnAfterLogin: navigator.onReturnAfterLogin }
}
