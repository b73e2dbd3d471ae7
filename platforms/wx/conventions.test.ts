// WeChat's conventions, on a recording `wx`: sync storage, and the tabBar read from `__wxConfig` (a global of
// the WeChat runtime) so the login page and the way back use switchTab for tabBar pages.
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { WxLike } from './index.js'
import { createWxRelay, wxStorage } from './index.js'

type Obj = Record<string, any>

function fakeWx() {
  const storage = new Map<string, unknown>()
  const navigations: [string, Obj][] = []
  const network = (o: Obj) => (queueMicrotask(() => o.success({ statusCode: 401, header: {}, data: {} })), { abort: vi.fn() })
  const wx = {
    request: network,
    uploadFile: network,
    downloadFile: network,
    navigateTo: (o: Obj) => void navigations.push(['navigateTo', o]),
    redirectTo: (o: Obj) => void navigations.push(['redirectTo', o]),
    switchTab: (o: Obj) => void navigations.push(['switchTab', o]),
    navigateBack: (o: Obj) => void navigations.push(['navigateBack', o]),
    login: (o: Obj) => o.success({}),
    getStorageSync: (key: string) => storage.get(key) ?? '',
    setStorageSync: (key: string, value: unknown) => void storage.set(key, value),
    removeStorageSync: (key: string) => void storage.delete(key),
  } as unknown as WxLike
  return { wx, storage, navigations }
}

afterEach(() => {
  vi.unstubAllGlobals()
})

describe('tokenrelay/wx conventions', () => {
  it('storage is the sync API', () => {
    const { wx, storage } = fakeWx()
    const s = wxStorage(wx)
    s.set('tokenrelay', 'v1')
    expect(storage.get('tokenrelay')).toBe('v1')
    expect(s.get('tokenrelay')).toBe('v1')
    s.remove('tokenrelay')
    expect(storage.has('tokenrelay')).toBe(false)
  })

  it("a tabBar login page listed in WeChat's __wxConfig is opened with switchTab", async () => {
    vi.stubGlobal('__wxConfig', { tabBar: { list: [{ pagePath: 'pages/me/index' }] } })
    vi.stubGlobal('getCurrentPages', () => [{ route: 'pages/home/index', options: {} }])
    const { wx, navigations } = fakeWx()
    const made = createWxRelay({ baseURL: 'https://api.test', loginPage: '/pages/me/index', logger: { log() {}, warn() {} } }, wx)
    await made.relay.setCredentials({ accessToken: 'dead' })
    await made.request({ url: '/x' }).catch(() => {}) // 401, no refresh, no login: the session ends
    expect(navigations).toEqual([['switchTab', expect.objectContaining({ url: '/pages/me/index' })]])
  })
})
