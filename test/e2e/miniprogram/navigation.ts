/**
 * `navigateTo`, `redirectTo`, `switchTab`, `reLaunch`, `navigateBack`, performed on the real page stack
 * with the platform's rules (at most 10 pages, tabBar pages only through switchTab, no going back from
 * the first page) and each one logged, failures included, so a test can count trips to the login page.
 */
import * as path from 'node:path'
import type { Pages } from './pages'
import { macrotask, type Sandbox } from './sandbox'
import type { NavigationRecord } from './types'

export function navigationApi(sb: Sandbox, pages: Pages, navigations: NavigationRecord[]): Record<string, any> {
  const p = sb.platform
  const stack = pages.stack
  const nav = (api: NavigationRecord['api']) =>
    sb.asyncApi(api, async (o) => {
      const url = String(o.url || '')
      const fail = (msg: string) => {
        navigations.push({ api, url, ok: false, errMsg: `${api}:fail ${msg}` })
        return {
          ok: false,
          res: sb.toRealm(p !== 'my' ? { errMsg: `${api}:fail ${msg}` } : { error: 4, errorMessage: msg, errMsg: `${api}:fail ${msg}` }),
        }
      }
      await macrotask()
      if (sb.closed) return { ok: false, res: {} }
      if (api === 'navigateBack') {
        const delta = Math.max(1, Number(o.delta) || 1)
        if (stack.length <= 1) return fail('cannot navigate back at first page.')
        const current = stack[stack.length - 1]
        navigations.push({ api, url: current.route, ok: true })
        for (let i = 0; i < delta && stack.length > 1; i++) pages.close(stack.pop()!)
        pages.hook(stack[stack.length - 1], 'onShow')
        return { ok: true, res: sb.toRealm(p !== 'my' ? { errMsg: `${api}:ok` } : { success: true }) }
      }
      const [rawPath, qs] = url.split('?')
      let route: string
      const relative = !rawPath.startsWith('/')
      try {
        const resolved =
          relative && stack.length
            ? path.posix.join(path.posix.dirname(stack[stack.length - 1].route), rawPath)
            : rawPath.replace(/^\//, '')
        if (!pages.routes.includes(resolved)) return fail(`page "${resolved}" is not found`)
        route = resolved
      } catch {
        return fail(`page "${rawPath}" is not found`)
      }
      const query = parseQuery(qs)
      const isTab = pages.tabRoutes.includes(route)
      if ((api === 'navigateTo' || api === 'redirectTo') && isTab) return fail(`can not ${api} a tabbar page`)
      if (api === 'switchTab' && !isTab) return fail('can not switch to no-tabBar page')
      if (api === 'navigateTo' && stack.length >= 10) return fail('webview count limit exceed')
      navigations.push({ api, url, ok: true })
      const top = stack[stack.length - 1]
      if (api === 'navigateTo') {
        if (top) pages.hook(top, 'onHide')
      } else if (api === 'redirectTo') {
        if (top) pages.close(stack.pop()!)
      } else {
        // reLaunch and switchTab close every non-tab page (our tabs are not kept alive separately).
        while (stack.length) pages.close(stack.pop()!)
      }
      await pages.open(route, query)
      return { ok: true, res: sb.toRealm(p !== 'my' ? { errMsg: `${api}:ok` } : { success: true }) }
    })
  return {
    navigateTo: nav('navigateTo'),
    redirectTo: nav('redirectTo'),
    switchTab: nav('switchTab'),
    reLaunch: nav('reLaunch'),
    navigateBack: nav('navigateBack'),
  }
}

function parseQuery(qs: string | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  if (!qs) return out
  for (const pair of qs.split('&')) {
    if (!pair) continue
    const [k, v = ''] = pair.split('=')
    out[decodeURIComponent(k)] = decodeURIComponent(v)
  }
  return out
}
