// loginNavigator on a recording navigation API: where the user is sent when the session ends, the way back,
// every way a navigation can fail (reported once), and the onReturnAfterLogin listeners.
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { NavigationApi } from './login-page.js'
import { loginNavigator } from './login-page.js'

type Page = { route?: string; options?: Record<string, string> }
type How = 'ok' | 'fail' | 'reject' | 'throw' | 'fail and reject' | 'object' | 'nothing'

/** A navigation API that records each call and answers as `how` says. */
function fakeNav(pages: Page[], how: How = 'ok') {
  const calls: [string, Record<string, unknown>][] = []
  const call =
    (name: string) =>
    ({ fail, ...args }: { fail: (e: unknown) => void } & Record<string, unknown>) => {
      calls.push([name, args])
      const error = { errMsg: `${name}:fail page not found` }
      if (how === 'fail' || how === 'fail and reject') fail(error)
      if (how === 'reject' || how === 'fail and reject') return Promise.reject(error)
      if (how === 'throw') throw new Error(`${name} is not a function`)
      if (how === 'object') return { errMsg: `${name}:ok` }
      if (how === 'nothing') return undefined
      return how === 'ok' ? Promise.resolve({ errMsg: `${name}:ok` }) : undefined
    }
  const api: NavigationApi = {
    navigateTo: call('navigateTo'),
    redirectTo: call('redirectTo'),
    switchTab: call('switchTab'),
    navigateBack: call('navigateBack'),
    getCurrentPages: () => pages,
  }
  return { api, calls, pages }
}

const detail = { route: 'pages/detail/index', options: { id: '7', q: 'a b' } }

afterEach(() => {
  vi.unstubAllGlobals()
})

describe('loginNavigator: to the login page', () => {
  it('opens the login page once and remembers the page with its query for the way back', () => {
    const { api, calls, pages } = fakeNav([{ route: 'pages/home/index' }, detail])
    const report = vi.fn()
    const n = loginNavigator(() => api, { loginPage: '/pages/login/index' }, report)
    n.onSessionExpired()
    expect(calls).toEqual([['navigateTo', { url: '/pages/login/index' }]])
    pages.push({ route: 'pages/login/index' })
    n.onSessionExpired() // already there: nothing
    expect(calls).toHaveLength(1)
    pages.splice(0, pages.length, { route: 'pages/home/index' }) // the way back cannot go back: it opens the page
    n.returnAfterLogin()
    expect(calls[1]).toEqual(['redirectTo', { url: '/pages/detail/index?id=7&q=a%20b' }])
    n.returnAfterLogin() // once only
    expect(calls).toHaveLength(2)
    expect(report).not.toHaveBeenCalled()
  })

  it('without a loginPage it does nothing', () => {
    const { api, calls } = fakeNav([detail])
    const n = loginNavigator(() => api, {}, vi.fn())
    n.onSessionExpired()
    n.returnAfterLogin()
    expect(calls).toEqual([])
  })

  it('a page without a route is not remembered: a later end keeps the page remembered before', () => {
    const { api, calls, pages } = fakeNav([detail])
    const n = loginNavigator(() => api, { loginPage: '/pages/login/index' }, vi.fn())
    n.onSessionExpired()
    pages.splice(0, pages.length, {}) // e.g. a page still loading
    n.onSessionExpired()
    pages.splice(0, pages.length)
    n.onSessionExpired()
    n.returnAfterLogin()
    expect(calls.at(-1)).toEqual(['redirectTo', { url: '/pages/detail/index?id=7&q=a%20b' }])
  })

  it('a full stack (10 pages) uses redirectTo; a tabBar login page switchTab, by its path', () => {
    const full = fakeNav(Array.from({ length: 10 }, (_, i) => ({ route: `pages/p${i}/index` })))
    loginNavigator(() => full.api, { loginPage: '/pages/login/index' }, vi.fn()).onSessionExpired()
    expect(full.calls).toEqual([['redirectTo', { url: '/pages/login/index' }]])
    const tab = fakeNav([detail])
    loginNavigator(() => tab.api, { loginPage: '/pages/me/index?from=expired', tabBar: ['pages/me/index'] }, vi.fn()).onSessionExpired()
    expect(tab.calls).toEqual([['switchTab', { url: '/pages/me/index' }]])
  })

  it('reads the stack from the global getCurrentPages when the API has none, and copes with neither', () => {
    const { api, calls } = fakeNav([])
    delete api.getCurrentPages
    vi.stubGlobal('getCurrentPages', () => [detail])
    const n = loginNavigator(() => api, { loginPage: '/pages/login/index' }, vi.fn())
    n.onSessionExpired()
    n.returnAfterLogin()
    expect(calls.map(([name, args]) => [name, args.url])).toEqual([
      ['navigateTo', '/pages/login/index'],
      ['redirectTo', '/pages/detail/index?id=7&q=a%20b'],
    ])
    vi.unstubAllGlobals()
    const bare = loginNavigator(() => api, { loginPage: '/pages/login/index' }, vi.fn())
    bare.onSessionExpired()
    bare.returnAfterLogin()
    expect(calls).toHaveLength(3)
  })
})

describe('loginNavigator: the way back', () => {
  it('goes back (navigateBack, delta 1) when the page is right below the login page', () => {
    const { api, calls, pages } = fakeNav([{ route: 'pages/home/index' }, detail])
    const n = loginNavigator(() => api, { loginPage: '/pages/login/index' }, vi.fn())
    const seen = vi.fn()
    n.onReturnAfterLogin(seen)
    n.onSessionExpired()
    pages.push({ route: 'pages/login/index' })
    n.returnAfterLogin()
    expect(calls[1]).toEqual(['navigateBack', { delta: 1 }])
    expect(seen).toHaveBeenCalledWith({ url: '/pages/detail/index?id=7&q=a%20b', via: 'navigateBack' })
  })

  it('switches to a tabBar page by its path (the tabBar read from the app config)', () => {
    const { api, calls, pages } = fakeNav([{ route: 'pages/me/index', options: { tab: '1' } }])
    const n = loginNavigator(
      () => api,
      { loginPage: '/pages/login/index' },
      vi.fn(),
      () => ['pages/me/index'],
    )
    const seen = vi.fn()
    n.onReturnAfterLogin(seen)
    n.onSessionExpired()
    pages.splice(0, pages.length, { route: 'pages/login/index' })
    n.returnAfterLogin()
    expect(calls[1]).toEqual(['switchTab', { url: '/pages/me/index' }])
    expect(seen).toHaveBeenCalledWith({ url: '/pages/me/index?tab=1', via: 'switchTab' })
  })

  it('tells every listener, reports one that throws, and off() removes exactly its own listener', () => {
    const { api, pages } = fakeNav([detail])
    const report = vi.fn()
    const n = loginNavigator(() => api, { loginPage: '/pages/login/index' }, report)
    const boom = new Error('boom')
    const order: string[] = []
    const offFirst = n.onReturnAfterLogin(() => order.push('first'))
    const offSelf: () => void = n.onReturnAfterLogin(() => (order.push('self'), offSelf()))
    n.onReturnAfterLogin(() => {
      order.push('thrower')
      throw boom
    })
    n.onReturnAfterLogin(() => order.push('last'))
    const expire = () => (n.onSessionExpired(), pages.splice(0, pages.length, { route: 'pages/login/index' }), n.returnAfterLogin())
    expire()
    expect(order).toEqual(['first', 'self', 'thrower', 'last'])
    expect(report).toHaveBeenCalledWith('[tokenrelay] an onReturnAfterLogin listener threw:', boom)
    offFirst()
    offFirst()
    order.length = 0
    pages.splice(0, pages.length, detail)
    expire()
    expect(order).toEqual(['thrower', 'last'])
  })

  it('without listeners nothing is reported', () => {
    const { api, pages } = fakeNav([detail])
    const report = vi.fn()
    const n = loginNavigator(() => api, { loginPage: '/pages/login/index' }, report)
    n.onSessionExpired()
    pages.splice(0, pages.length, { route: 'pages/login/index' })
    n.returnAfterLogin()
    expect(report).not.toHaveBeenCalled()
  })
})

describe('loginNavigator: a navigation that fails is reported once, however the platform says so', () => {
  it.each<How>(['fail', 'reject', 'throw', 'fail and reject'])('%s', async (how) => {
    const { api, pages } = fakeNav([detail], how)
    const report = vi.fn()
    const n = loginNavigator(() => api, { loginPage: '/pages/login/index' }, report)
    n.onSessionExpired()
    await new Promise((r) => setTimeout(r, 0))
    expect(report).toHaveBeenCalledTimes(1)
    expect(report.mock.calls[0][0]).toMatch(/^\[tokenrelay\] navigation to the login page failed: navigateTo/)
    pages.splice(0, pages.length, { route: 'pages/home/index' })
    n.returnAfterLogin()
    await new Promise((r) => setTimeout(r, 0))
    expect(report).toHaveBeenCalledTimes(2)
    expect(report.mock.calls[1][0]).toMatch(/^\[tokenrelay\] navigation back after login failed: redirectTo/)
  })

  it.each<How>(['ok', 'object', 'nothing'])('a navigation that answers with %s is no failure', async (how) => {
    const { api } = fakeNav([detail], how)
    const report = vi.fn()
    loginNavigator(() => api, { loginPage: '/pages/login/index' }, report).onSessionExpired()
    await new Promise((r) => setTimeout(r, 0))
    expect(report).not.toHaveBeenCalled()
  })
})
