import type { Report } from './report.js'
import { describeError } from './report.js'
import type { LoginPageOptions, ReturnAfterLogin } from './types.js'

type Page = { route?: string; options?: Record<string, string> }
type Fail = (error: unknown) => void

/** The navigation calls every platform shares (wx, my, Taro and uni all have these). */
export interface NavigationApi {
  navigateTo(o: { url: string; fail: Fail }): unknown
  redirectTo(o: { url: string; fail: Fail }): unknown
  switchTab(o: { url: string; fail: Fail }): unknown
  navigateBack(o: { delta: number; fail: Fail }): unknown
  /** A global function on wx/my/uni (not a member of `wx`); Taro also has `Taro.getCurrentPages`. */
  getCurrentPages?(): Page[]
}

declare const getCurrentPages: (() => Page[]) | undefined

const path = (url: string) => '/' + url.replace(/^\//, '').split('?')[0]

/** A page as a URL: its path and its query, the way the way back navigates to it. */
function where(page: Page | undefined): string | undefined {
  const here = page && page.route && path(page.route)
  if (!here) return undefined
  const query = Object.entries(page.options || {})
    .map((kv) => kv.map(encodeURIComponent).join('='))
    .join('&')
  return here + (query ? '?' + query : '')
}

/**
 * Runs one navigation and reports its failure once, whichever way the platform says so: the `fail`
 * callback (wx, my, uni), a rejected promise (Taro), or a throw. Unreported, a wrong `loginPage` would
 * leave the user on a page whose every request fails, with nothing in the console.
 */
function navigate(call: (fail: Fail) => unknown, what: string, report: Report): void {
  let reported = false
  const failed: Fail = (error) => {
    if (reported) return
    reported = true
    report(`[tokenrelay] navigation ${what} failed: ${describeError(error)}`, error)
  }
  try {
    const result = call(failed) as PromiseLike<unknown> | undefined
    if (result && typeof result.then === 'function') result.then(undefined, failed)
  } catch (error) {
    failed(error)
  }
}

/**
 * Sends the user to the login page once per session end, remembering where they were.
 * `navigateTo` keeps the page; a full stack (10 pages) uses `redirectTo`; tabBar pages need `switchTab`.
 * The way back (`returnAfterLogin()`) goes back (`navigateBack`) when the page to return to is the one
 * right below the login page, so no second copy of it is stacked; else it opens it (`redirectTo`,
 * `switchTab`). Either way the listeners of `onReturnAfterLogin` hear of it: a page that was kept refreshes
 * its data there.
 */
export function loginNavigator(
  nav: () => NavigationApi,
  options: LoginPageOptions,
  report: Report,
  tabBarFromConfig: () => string[] = () => [],
) {
  let returnTo: string | undefined
  const listeners: ((to: ReturnAfterLogin) => void)[] = []
  const isTab = (url: string) => (options.tabBar || tabBarFromConfig()).map(path).indexOf(path(url)) >= 0
  const stack = (api: NavigationApi) =>
    (api.getCurrentPages ? api.getCurrentPages() : typeof getCurrentPages === 'function' && getCurrentPages()) || []

  return {
    onSessionExpired(): void {
      const page = options.loginPage
      if (!page) return
      const api = nav()
      const pages = stack(api)
      const here = where(pages[pages.length - 1])
      if (here && path(here) === path(page)) return
      if (here) returnTo = here
      const what = 'to the login page'
      if (isTab(page)) navigate((fail) => api.switchTab({ url: path(page), fail }), what, report)
      else if (pages.length >= 10) navigate((fail) => api.redirectTo({ url: page, fail }), what, report)
      else navigate((fail) => api.navigateTo({ url: page, fail }), what, report)
    },
    returnAfterLogin(): void {
      const url = returnTo
      returnTo = undefined
      if (!url) return
      const api = nav()
      const pages = stack(api)
      const what = 'back after login'
      let via: ReturnAfterLogin['via']
      if (pages.length >= 2 && where(pages[pages.length - 2]) === url) {
        via = 'navigateBack'
        navigate((fail) => api.navigateBack({ delta: 1, fail }), what, report)
      } else if (isTab(url)) {
        via = 'switchTab'
        navigate((fail) => api.switchTab({ url: path(url), fail }), what, report)
      } else {
        via = 'redirectTo'
        navigate((fail) => api.redirectTo({ url, fail }), what, report)
      }
      for (const fn of listeners.slice()) {
        try {
          fn({ url, via })
        } catch (error) {
          report('[tokenrelay] an onReturnAfterLogin listener threw:', error)
        }
      }
    },
    onReturnAfterLogin(listener: (to: ReturnAfterLogin) => void): () => void {
      listeners.push(listener)
      return () => {
        const i = listeners.indexOf(listener)
        if (i >= 0) listeners.splice(i, 1)
      }
    },
  }
}
