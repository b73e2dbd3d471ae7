/**
 * Runs a COMPILED mini program (Taro `dist/weapp|alipay`, uni-app `dist/build/mp-weixin|mp-alipay`,
 * or hand-written native code) under plain Node, with simulated `wx` / `my` globals whose network
 * calls are real HTTP.
 *
 *   const app = await loadMiniProgram({ dir, platform: 'wx', apiBase: 'http://127.0.0.1:4321' })
 *   await app.tap('home', 'run-all')            // tap the element with id="run-all" on page home
 *   await app.waitForText('home', /results 12\/12/)
 *   app.texts('home')                            // every string the page has rendered (setData)
 *   app.pageData('home')                         // the page's data as the view would see it
 *   app.navigations                              // [{ api: 'navigateTo', url: '/pages/login/index', ok: true }]
 *   app.http                                     // every HTTP exchange: kind, method, url, headers, status
 *   await app.close()
 *
 * The harness lives in miniprogram/, one concern per file (each header says how the platform behaves there):
 *   runtime.ts          loadMiniProgram(): puts the parts together, launches (App `onLaunch` → `onShow`, then
 *                       the entry page `onLoad(query)` → `onShow` → `onReady`), close(), the MiniProgram handle
 *   sandbox.ts          one `vm` context per load (the program's own built-ins), console capture, timers that
 *                       close() clears, errors thrown in callbacks kept in `app.errors` instead of crashing the
 *                       test worker, and the success/fail/complete-or-promise calling convention
 *   loader.ts           `require` confined to `dir` (no Node built-ins: like the real runtime), what App(),
 *                       Page() and Component() register
 *   pages.ts            page instances from `Page()` (Taro, uni on Alipay) and `Component()` (uni on WeChat),
 *                       lifecycle hooks, the page stack; no view layer (child components are not instantiated)
 *   page-data.ts        setData paths, the strings a page holds (`app.texts`)
 *   taps.ts             `tap(page, id)`: a real tap event, found in Taro's rendered tree (`eh`) or in the
 *                       page's wxml/axml binding; `call(page, method)` is the escape hatch
 *   navigation.ts       navigateTo, redirectTo, switchTab, reLaunch, navigateBack on the stack (at most 10), logged
 *   network.ts          request / uploadFile / downloadFile over node:http, one in-flight limit (default 10,
 *                       extra calls queue), wx and Alipay answer shapes (wx: `success` for every status; my:
 *                       non-2xx → `fail {error: 19}`)
 *   storage.ts          wx positional / my object-style storage, one Map shared with the test (`app.storage`)
 *   files.ts            a file system manager on `USER_DATA_PATH` and temp files, in a temp dir per load
 *   platform-globals.ts `wx` / `my` assembled from the above, `wx.login` (→ `{code: 'code-alice-<n>-…'}`, unique
 *                       per process), `my.getAuthCode` (→ `{authCode}`), system info stubs, App / Page /
 *                       getApp / getCurrentPages; API members the program reads but the simulation lacks are
 *                       listed in `app.missingApis`
 *   types.ts            the options and the MiniProgram handle, documented member by member
 * Its own tests: miniprogram-runtime.e2e.ts.
 */
export { loadMiniProgram } from './miniprogram/runtime'
export type {
  HttpRecord,
  LoadMiniProgramOptions,
  LogRecord,
  MiniPlatform,
  MiniProgram,
  NavigationRecord,
  PageInstance,
} from './miniprogram/types'
