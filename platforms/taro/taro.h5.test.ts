// tokenrelay/taro as an H5 build sees it WITHOUT tokenrelay/taro/plugin: '@tarojs/taro' is Taro's H5 API
// module, `getEnv()` is 'WEB', and the app's `Taro.uploadFile(...)` calls are compiled into imports of that
// module's own uploadFile, which install() cannot reach. Here that module is a stand-in whose network calls
// go to an in-process backend; the real H5 build runs in test/e2e/taro-manual-h5.e2e.ts.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { API, fakeBackend } from '../../test/helpers/fake-backend.js'

const h5 = vi.hoisted(() => {
  const backend = { current: undefined as ReturnType<typeof import('../../test/helpers/fake-backend.js').fakeBackend> | undefined }
  const storage = new Map<string, string>()
  // Taro H5 answers every status on `then`, with lower-cased headers.
  const file = (o: { url: string; header?: Record<string, string> }) =>
    backend.current!.transport({ url: o.url, header: o.header, method: 'POST' })
  const api = {
    getEnv: () => 'WEB',
    addInterceptor: () => {},
    getApp: () => ({}),
    getCurrentPages: () => [],
    getStorageSync: (k: string) => storage.get(k) || '',
    setStorageSync: (k: string, v: string) => void storage.set(k, v),
    removeStorageSync: (k: string) => void storage.delete(k),
    login: () => Promise.resolve({}),
    // Refresh calls: the adapter's interceptor is not run by this stand-in, so they go straight out.
    request: (o: { url: string; header?: Record<string, string>; method?: string; data?: unknown }) => backend.current!.transport(o),
    navigateTo: () => Promise.resolve(),
    redirectTo: () => Promise.resolve(),
    switchTab: () => Promise.resolve(),
    navigateBack: () => Promise.resolve(),
    uploadFile: vi.fn(file),
    downloadFile: vi.fn(file),
  }
  return { api, backend, storage }
})
vi.mock('@tarojs/taro', () => ({ ...h5.api, default: {} }))

const { downloadFile, install, uploadFile } = await import('./index.js')
const { relayFileApi } = await import('./h5-api.js')

afterEach(() => {
  h5.storage.clear()
  h5.api.uploadFile.mockClear()
})

describe('tokenrelay/taro on H5 without the CLI plugin', () => {
  it("install() warns once that Taro.uploadFile/downloadFile are not covered; tokenrelay/taro's uploadFile and downloadFile are", async () => {
    const backend = (h5.backend.current = fakeBackend())
    const warn = vi.fn()
    const relay = install({ baseURL: API, refresh: backend.refresh, logger: { log() {}, warn } })
    try {
      expect(warn).toHaveBeenCalledTimes(1)
      expect(warn.mock.calls[0][0]).toMatch(
        /^\[tokenrelay\] tokenrelay\/taro on H5 without tokenrelay\/taro\/plugin: Taro\.uploadFile\(\)\/downloadFile\(\) go out without the token/,
      )
      expect(warn.mock.calls[0][0]).toContain("call uploadFile/downloadFile from 'tokenrelay/taro'")
      await relay.setCredentials(backend.login())
      backend.expireAll()
      const [up, down] = await Promise.all([
        uploadFile({ url: `${API}/api/upload`, filePath: 'blob:x', name: 'file' }),
        downloadFile({ url: `${API}/api/file` }),
      ])
      expect([up.statusCode, down.statusCode]).toEqual([200, 200])
      expect(backend.state.refreshCalls).toBe(1)
      expect(backend.state.hits.filter((h) => h.url === '/api/upload').map((h) => [h.status, h.token])).toEqual([
        [401, 'at-1'],
        [200, 'at-2'],
      ])
    } finally {
      relay.uninstall()
    }
  })

  it("with the plugin's H5 wrapper as '@tarojs/taro' nothing is wrapped twice, and install() says nothing", async () => {
    const backend = (h5.backend.current = fakeBackend())
    // What the plugin's alias makes '@tarojs/taro' export: Taro's function already routed through the relay.
    const wrapped = relayFileApi('uploadFile', h5.api.uploadFile.getMockImplementation()! as never)
    h5.api.uploadFile.mockImplementation(wrapped as never)
    Object.defineProperty(h5.api.uploadFile, '__tokenrelayRelayed', { value: true })
    const warn = vi.fn()
    const relay = install({ baseURL: API, refresh: backend.refresh, logger: { log() {}, warn } })
    try {
      expect(warn).not.toHaveBeenCalled()
      await relay.setCredentials(backend.login())
      backend.expireAll()
      await expect(uploadFile({ url: `${API}/api/upload`, filePath: 'blob:x', name: 'file' })).resolves.toMatchObject({ statusCode: 200 })
      expect(backend.state.hits.filter((h) => h.url === '/api/upload').map((h) => h.status)).toEqual([401, 200])
      expect(backend.state.refreshCalls).toBe(1)
    } finally {
      relay.uninstall()
    }
  })
})
