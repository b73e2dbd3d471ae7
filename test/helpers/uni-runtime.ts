// The real uni-app API runtime (`@dcloudio/uni-mp-weixin` / `uni-mp-alipay` / `uni-mp-toutiao`,
// `dist/uni.api.esm.js`) on top of the simulated `wx` / `my` / `tt` from mini-platform.ts, so `uni.request`
// & co. do real HTTP through uni's own interceptor, promisify and protocol code. The runtime imports `injectHook` from 'vue', which a uni build
// aliases to `@dcloudio/uni-mp-vue`: the test file must do the same with
// `vi.mock('vue', () => import('@dcloudio/uni-mp-vue'))` (vi.mock is hoisted per test file).
import { EventChannel } from '@dcloudio/uni-shared'
import { vi } from 'vitest'
import type { SimOptions } from './mini-platform.js'
import { simulated } from './mini-platform.js'

export type UniPlatform = 'mp-weixin' | 'mp-alipay' | 'mp-toutiao'

/** The platform global each uni target calls into. */
const globalName = { 'mp-weixin': 'wx', 'mp-alipay': 'my', 'mp-toutiao': 'tt' } as const

const systemInfo = () => ({
  brand: 'devtools',
  model: 'tokenrelay-test',
  language: 'zh_CN',
  pixelRatio: 2,
  windowWidth: 375,
  windowHeight: 812,
  screenWidth: 375,
  screenHeight: 812,
  platform: 'devtools',
  system: 'iOS 17.0',
  version: '8.0.50',
  SDKVersion: '3.5.0',
})

/** What the runtimes read at import (locale, device width, `my.canIUse` for the request protocol). */
const runtimeExtras = {
  // Alipay: `canIUse('request')` picks my.request over DingTalk's httpRequest; DingTalk checks must be false.
  canIUse: (what: string) => !/^(saveFileToDingTalk|isIDE)/.test(what),
  getSystemInfoSync: systemInfo,
  getAppBaseInfo: systemInfo,
  getWindowInfo: systemInfo,
  getDeviceInfo: systemInfo,
}

/**
 * Douyin: uni-mp-toutiao's `uni.navigateTo` makes an EventChannel with `new tt.EventChannel(id, events)` (a
 * class uni's page runtime, uni.mp.esm.js, puts on `tt` at app start: here the same class from uni-shared)
 * and appends its id to the url as `__id__=<n>`; the opened page's onLoad takes it back out of its query
 * (uni.mp.esm.js `callHook`). The simulated `navigateTo` records the url as uni passed it in `rawUrls`, and
 * logs and stacks it without `__id__`, as the page then sees its options (the e2e harness leaves it out too).
 */
function douyinNavigation(tt: Record<string, any>) {
  const rawUrls: string[] = []
  const navigateTo = tt.navigateTo
  tt.EventChannel = EventChannel
  tt.navigateTo = (o: { url: string }) => (rawUrls.push(o.url), navigateTo({ ...o, url: o.url.replace(/[?&]__id__=\d+$/, '') }))
  return rawUrls
}

function simulate(platform: UniPlatform, options: SimOptions) {
  const sim = simulated(globalName[platform], options)
  return { ...sim, rawUrls: platform === 'mp-toutiao' ? douyinNavigation(sim.api) : ([] as string[]) }
}

/**
 * Defines the platform global (`wx`, `my` or `tt`), `getApp` and `getCurrentPages`, then imports a fresh uni
 * runtime and defines the global `uni`. Undo with `vi.unstubAllGlobals()`.
 */
export async function loadUni(platform: UniPlatform, options: SimOptions = {}) {
  const sim = simulate(platform, options)
  const api: Record<string, any> = Object.assign(sim.api, runtimeExtras)
  vi.stubGlobal(globalName[platform], api)
  vi.stubGlobal('getApp', () => ({ globalData: {} }))
  vi.stubGlobal('getCurrentPages', sim.getCurrentPages)
  vi.resetModules()
  // @ts-expect-error the runtime ships no types
  const weixin = () => import('@dcloudio/uni-mp-weixin/dist/uni.api.esm.js')
  // @ts-expect-error the runtime ships no types
  const alipay = () => import('@dcloudio/uni-mp-alipay/dist/uni.api.esm.js')
  // @ts-expect-error the runtime ships no types
  const toutiao = () => import('@dcloudio/uni-mp-toutiao/dist/uni.api.esm.js')
  const uni = (await { 'mp-weixin': weixin, 'mp-alipay': alipay, 'mp-toutiao': toutiao }[platform]()).default
  vi.stubGlobal('uni', uni)
  return {
    uni,
    platform,
    /**
     * The simulated platform object uni calls into: the global as it is after the import, since on WeChat uni
     * swaps the global `wx` for a copy (its initWx); `my` and `tt` stay the objects defined above.
     */
    api: (globalThis as any)[globalName[platform]] as Record<string, any>,
    navigations: sim.navigations,
    storage: sim.storage,
    stack: sim.stack,
    /** Douyin adds what `tt.login` was called with (`logins: [{ force }]`), `popups` and `loggedInToHost` (see createTt). */
    state: sim.state as {
      requests: number
      storageFull?: boolean
      logins?: { force?: boolean }[]
      popups?: number
      loggedInToHost?: boolean
    },
    /** Douyin only: the urls uni handed `tt.navigateTo`, `__id__` included. */
    rawUrls: sim.rawUrls,
    /** App show and the network status (mini-platform.ts): what uni.onAppShow and uni.getNetworkType pass through to. */
    life: sim.life,
  }
}

export type UniSim = Awaited<ReturnType<typeof loadUni>>
