import type { TokenStorage, Transport } from '../../src/index.js'
import { createTokenRelay } from '../../src/index.js'
import type { NavigationApi } from './login-page.js'
import { loginNavigator } from './login-page.js'
import type { LifecycleApi } from './lifecycle.js'
import { lifecycle } from './lifecycle.js'
import { codeLogin } from './login.js'
import type { Report } from './report.js'
import type { BrowserTabs } from './tabs.js'
import { reporter } from './report.js'
import type { PlatformOptions } from './types.js'

/** No scheme and no host: a page's origin completes it on H5, nothing does in a mini program. */
const RELATIVE = /^(?![a-z][a-z\d+.-]*:|\/\/)/i

/**
 * Says once, at the first such URL, that a relative URL goes out with no `baseURL`: a mini program cannot send
 * it (`request:fail invalid url`), and without this the first sign is a login or refresh failing
 * `REFRESH_FAILED` after its retries. Quiet where relative URLs work (`resolvesRelative`: H5).
 */
function relativeUrlCheck(baseURL: string | undefined, report: Report, resolvesRelative: () => boolean) {
  let said = !!baseURL
  return (url: string) => {
    if (said || typeof url !== 'string' || !RELATIVE.test(url) || resolvesRelative()) return
    said = true
    report(`[tokenrelay] relative URL '${url}' with no baseURL: mini programs cannot send it. Set baseURL in the install() options.`)
  }
}

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
    /** Whether a relative URL works here (H5: the page's origin completes it). @default () => false */
    resolvesRelative?: () => boolean
    /** H5's tabs of one origin (`browserTabs`), for adapters that run there: used unless `crossTab` says otherwise. */
    tabs?: (storageKey: string) => BrowserTabs | undefined
    /** App show and the network status (`wx`, `my`…; `browserNetwork()` on H5). @default none */
    lifecycle?: LifecycleApi
  },
) {
  const { exchange, onSessionExpired } = options
  const report = reporter(options)
  const navigator = loginNavigator(platform.nav, options, report, platform.tabBar)
  const transport = options.transport || platform.transport
  const { crossTab = true } = options
  const resolvesRelative = platform.resolvesRelative || (() => false)
  const check = relativeUrlCheck(options.baseURL, report, resolvesRelative)
  const tabs = crossTab === true && platform.tabs && resolvesRelative() ? platform.tabs(options.storageKey || 'tokenrelay') : undefined
  const life = lifecycle(platform.lifecycle || {})
  const relay = createTokenRelay({
    storage: platform.storage,
    network: life.network,
    ...options,
    crossTab: crossTab === true ? tabs && tabs.shared : crossTab || undefined,
    // Refresh and login calls (ctx.request) go through here.
    transport: (request) => (check(request.url), transport(request)),
    login: options.login || (exchange && platform.getCode && codeLogin(platform.getCode, exchange)),
    onSessionExpired(error) {
      // Several tabs: only the one the user looks at opens the login page now; the others when they are seen.
      if (tabs) tabs.whenSeen(() => relay.getCredentials() || navigator.onSessionExpired())
      else navigator.onSessionExpired()
      if (onSessionExpired) onSessionExpired(error)
    },
  })
  // The app's own calls enter through send() (wx, my, Taro, uni's held calls) or stamp() (uni).
  const { send, stamp } = relay
  relay.send = (request, via) => (check(request.url), send(request, via))
  relay.stamp = (request) => (check(request.url), stamp(request))
  // Back from the background: the relay re-checks what the paused timers could not.
  const stop = life.start(() => relay.wake())
  return {
    relay,
    returnAfterLogin: navigator.returnAfterLogin,
    onReturnAfterLogin: navigator.onReturnAfterLogin,
    /** Stops listening to the platform and the other tabs (uninstall). */
    close() {
      stop()
      if (tabs) tabs.close()
    },
  }
}
