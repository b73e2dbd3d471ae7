// The real uni-app API runtime (`@dcloudio/uni-mp-weixin` / `uni-mp-alipay`, `dist/uni.api.esm.js`) on top
// of the simulated `wx` / `my` from mini-platform.ts, so `uni.request` & co. do real HTTP through uni's own
// interceptor, promisify and protocol code. The runtime imports `injectHook` from 'vue', which a uni build
// aliases to `@dcloudio/uni-mp-vue`: the test file must do the same with
// `vi.mock('vue', () => import('@dcloudio/uni-mp-vue'))` (vi.mock is hoisted per test file).
import { vi } from 'vitest'
import type { SimOptions } from './mini-platform.js'
import { createMy, createWx } from './mini-platform.js'

export type UniPlatform = 'mp-weixin' | 'mp-alipay'

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
 * Defines the platform global (`wx` or `my`), `getApp` and `getCurrentPages`, then imports a fresh uni
 * runtime and defines the global `uni`. Undo with `vi.unstubAllGlobals()`.
 */
export async function loadUni(platform: UniPlatform, options: SimOptions = {}) {
  const sim = platform === 'mp-weixin' ? createWx(options) : createMy(options)
  const api: Record<string, unknown> = Object.assign('wx' in sim ? sim.wx : sim.my, runtimeExtras)
  vi.stubGlobal(platform === 'mp-weixin' ? 'wx' : 'my', api)
  vi.stubGlobal('getApp', () => ({ globalData: {} }))
  vi.stubGlobal('getCurrentPages', sim.getCurrentPages)
  vi.resetModules()
  // @ts-expect-error the runtime ships no types
  const weixin = () => import('@dcloudio/uni-mp-weixin/dist/uni.api.esm.js')
  // @ts-expect-error the runtime ships no types
  const alipay = () => import('@dcloudio/uni-mp-alipay/dist/uni.api.esm.js')
  const uni = (await (platform === 'mp-weixin' ? weixin() : alipay())).default
  vi.stubGlobal('uni', uni)
  return {
    uni,
    platform,
    /** The simulated platform object uni calls into. */
    api,
    navigations: sim.navigations,
    storage: sim.storage,
    stack: sim.stack,
    state: sim.state as { requests: number; storageFull?: boolean },
    /** App show and the network status (mini-platform.ts): what uni.onAppShow and uni.getNetworkType pass through to. */
    life: sim.life,
  }
}

export type UniSim = Awaited<ReturnType<typeof loadUni>>
