// Alipay's calling conventions, on a recording `my`: object-style storage, getAuthCode's silent scope, and
// `headers` for my.request but `header` for uploads and downloads, whichever spelling the caller used.
import { describe, expect, it, vi } from 'vitest'
import type { MyLike } from './index.js'
import { createMyRelay, myAuthCode, myStorage } from './index.js'

type Obj = Record<string, any>

/** A `my` whose network calls record their options and answer 200 at once. */
function fakeMy() {
  const sent: [string, Obj][] = []
  const storage = new Map<string, unknown>()
  const network = (name: string) => (o: Obj) => {
    sent.push([name, o])
    queueMicrotask(() => o.success({ status: 200, headers: {}, data: { ok: true } }))
    return { abort: vi.fn() }
  }
  const my = {
    request: network('request'),
    uploadFile: network('uploadFile'),
    downloadFile: network('downloadFile'),
    navigateTo: vi.fn(),
    redirectTo: vi.fn(),
    switchTab: vi.fn(),
    navigateBack: vi.fn(),
    getAuthCode: vi.fn((o: Obj) => o.success({ authCode: 'auth-1' })),
    getStorageSync: ({ key }: { key: string }) => (storage.has(key) ? { data: storage.get(key) } : undefined),
    setStorageSync: ({ key, data }: { key: string; data: unknown }) => void storage.set(key, data),
    removeStorageSync: ({ key }: { key: string }) => void storage.delete(key),
  } as unknown as MyLike
  return { my, sent, storage }
}

describe('tokenrelay/my conventions', () => {
  it('storage is object-style: { key } in, { data } out, nothing for a missing key', () => {
    const { my, storage } = fakeMy()
    const s = myStorage(my)
    expect(s.get('tokenrelay')).toBeUndefined()
    s.set('tokenrelay', 'v1')
    expect(storage.get('tokenrelay')).toBe('v1')
    expect(s.get('tokenrelay')).toBe('v1')
    s.remove('tokenrelay')
    expect(storage.has('tokenrelay')).toBe(false)
  })

  it('getAuthCode is asked for the silent scope, auth_base (no popup), and its authCode is the code', async () => {
    const { my } = fakeMy()
    await expect(myAuthCode(my)).resolves.toBe('auth-1')
    expect(my.getAuthCode).toHaveBeenCalledWith(expect.objectContaining({ scopes: 'auth_base' }))
  })

  it('my.request gets `headers`, uploads and downloads `header`; a caller writing either spelling keeps its headers', async () => {
    const { my, sent } = fakeMy()
    const made = createMyRelay({ baseURL: 'https://api.test' }, my)
    await made.relay.setCredentials({ accessToken: 'tok' })
    await made.request({ url: '/a', headers: { 'X-App': 'old-spelling' } })
    await made.uploadFile({ url: '/u', filePath: 'f', fileName: 'file', header: { 'X-App': 'new-spelling' } })
    await made.downloadFile({ url: '/d' })
    const [request, upload, download] = sent.map(([, o]) => o)
    expect(request.headers).toEqual({ 'X-App': 'old-spelling', Authorization: 'Bearer tok' })
    expect(request.header).toBeUndefined()
    expect(upload.header).toEqual({ 'X-App': 'new-spelling', Authorization: 'Bearer tok' })
    expect(upload.headers).toBeUndefined()
    expect(download.header).toEqual({ Authorization: 'Bearer tok' })
  })
})
