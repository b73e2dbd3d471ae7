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

const path = (url: string) => '/' + url.replace(/^\//, '').split('?')[0]

/**
 * Sends the user to the login page once per session end, remembering where they were.
 * `navigateTo` keeps the page; a full stack (10 pages) uses `redirectTo`; tabBar pages need `switchTab`.
 */
export function loginNavigator(nav: () => NavigationApi, options: LoginPageOptions, tabBarFromConfig: () => string[] = () => []) {
  let returnTo: string | undefined
  const go = (url: string, replace: boolean) => {
    const api = nav()
    if ((options.tabBar || tabBarFromConfig()).map(path).indexOf(path(url)) >= 0) api.switchTab({ url: path(url) })
    else if (replace) api.redirectTo({ url })
    else api.navigateTo({ url })
  }

  return {
    onSessionExpired(): void {
      const page = options.loginPage
      if (!page) return
      const api = nav()
      const stack = (api.getCurrentPages ? api.getCurrentPages() : typeof getCurrentPages == 'function' && getCurrentPages()) || []
      const current = stack[stack.length - 1]
      const here = current && current.route && path(current.route)
      if (here == path(page)) return
      if (here) {
        const query = Object.entries(current.options || {})
          .map((kv) => kv.map(encodeURIComponent).join('='))
          .join('&')
        returnTo = here + (query ? '?' + query : '')
      }
      go(page, stack.length >= 10)
    },
    returnAfterLogin(): void {
      const target = returnTo
      returnTo = undefined
      if (target) go(target, true)
    },
  }
}
