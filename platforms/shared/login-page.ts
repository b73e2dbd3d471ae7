import type { TokenRelayError } from '../../src/index.js'
import type { LoginPageOptions } from './types.js'

type Page = { route?: string; options?: Record<string, string> }

/** The navigation calls every platform shares (wx, my, Taro and uni all have these). */
export interface NavigationApi {
  navigateTo(o: { url: string }): unknown
  redirectTo(o: { url: string }): unknown
  switchTab(o: { url: string }): unknown
  /** A global function on wx/my/uni (not a member of `wx`); Taro also has `Taro.getCurrentPages`. */
  getCurrentPages?(): Page[]
}

declare const getCurrentPages: (() => Page[]) | undefined

function pages(api: NavigationApi): Page[] {
  if (api.getCurrentPages) return api.getCurrentPages()
  return typeof getCurrentPages === 'function' ? getCurrentPages() : []
}

const MAX_STACK = 10
const path = (url: string) => '/' + url.replace(/^\//, '').split('?')[0]

/**
 * Sends the user to the login page once per session end, remembering where they were.
 * `navigateTo` keeps the page; a full stack (10) uses `redirectTo`; tabBar pages need `switchTab`.
 */
export function loginNavigator(nav: () => NavigationApi, options: LoginPageOptions, tabBarFromConfig: () => string[] = () => []) {
  let returnTo: string | undefined
  const isTab = (url: string) => (options.tabBar || tabBarFromConfig()).map(path).indexOf(path(url)) >= 0
  const go = (url: string, replace: boolean) => {
    const api = nav()
    if (isTab(url)) api.switchTab({ url: path(url) })
    else if (replace) api.redirectTo({ url })
    else api.navigateTo({ url })
  }

  return {
    onSessionExpired(_error: TokenRelayError): void {
      const page = options.loginPage
      if (!page) return
      const stack = pages(nav()) || []
      const current = stack[stack.length - 1]
      const here = current && current.route ? path(current.route) : undefined
      if (here === path(page)) return
      if (here) {
        const query = Object.keys(current.options || {})
          .map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(current.options![k])}`)
          .join('&')
        returnTo = here + (query ? '?' + query : '')
      }
      go(page, stack.length >= MAX_STACK)
    },
    returnAfterLogin(): void {
      const target = returnTo
      returnTo = undefined
      if (target) go(target, true)
    },
  }
}
