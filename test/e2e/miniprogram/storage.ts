/**
 * Storage as the platforms shape it: wx positional (`getStorageSync(key)`, '' for a missing key, a failing
 * write throws), Alipay object-style (`getStorageSync({key})` → `{data: null}` for a missing key, a failing
 * write returns `{error: 15}`), with the platforms' limits (1 MB per key, 10 MB in all). One Map holds the
 * values for both the program and the test (`app.storage`).
 */
import type { Sandbox } from './sandbox'
import type { LoadMiniProgramOptions } from './types'

/** The storage a load starts with: `opts.storage`, copied. */
export function initialStorage(opts: LoadMiniProgramOptions): Map<string, unknown> {
  const storage = new Map<string, unknown>()
  for (const [k, v] of Object.entries(opts.storage || {})) storage.set(k, JSON.parse(JSON.stringify(v)))
  return storage
}

/** The storage members of `wx` / `my` over `storage`. */
export function storageApi(sb: Sandbox, storage: Map<string, unknown>): Record<string, any> {
  const MAX_KEY = 1024 * 1024
  const MAX_TOTAL = 10 * 1024 * 1024
  const sizeOf = (v: unknown) => Buffer.byteLength(JSON.stringify(v) ?? '')
  const total = () => [...storage.values()].reduce((n: number, v) => n + sizeOf(v), 0)
  const write = (key: string, data: unknown): string | null => {
    if (typeof key !== 'string' || !key) return 'invalid key'
    if (sb.opts.storageWriteFails && sb.opts.storageWriteFails(key)) return 'exceed storage max size 10MB'
    const size = sizeOf(data)
    if (size > MAX_KEY) return 'exceed storage item max length'
    const prev = storage.has(key) ? sizeOf(storage.get(key)) : 0
    if (total() - prev + size > MAX_TOTAL) return 'exceed storage max size 10MB'
    storage.set(key, data === undefined ? undefined : JSON.parse(JSON.stringify(data)))
    return null
  }
  const read = (key: string) => (storage.has(key) ? sb.toRealm(storage.get(key)) : undefined)
  const info = () => sb.toRealm({ keys: [...storage.keys()], currentSize: Math.ceil(total() / 1024), limitSize: 10240 })
  const later = <T>(v: T) => new Promise<T>((r) => setImmediate(() => r(v)))

  if (sb.platform !== 'my') {
    return {
      setStorageSync: (key: string, data: unknown) => {
        const err = write(key, data)
        if (err) throw sb.toRealm({ errMsg: `setStorageSync:fail ${err}` })
      },
      getStorageSync: (key: string) => (storage.has(key) ? read(key) : ''),
      removeStorageSync: (key: string) => {
        storage.delete(key)
      },
      clearStorageSync: () => {
        storage.clear()
      },
      getStorageInfoSync: info,
      setStorage: sb.asyncApi('setStorage', (o) => {
        const err = write(o.key, o.data)
        return later(err ? { ok: false, res: { errMsg: `setStorage:fail ${err}` } } : { ok: true, res: { errMsg: 'setStorage:ok' } })
      }),
      getStorage: sb.asyncApi('getStorage', (o) =>
        later(
          storage.has(o.key)
            ? { ok: true, res: { data: read(o.key), errMsg: 'getStorage:ok' } }
            : { ok: false, res: { errMsg: 'getStorage:fail data not found' } },
        ),
      ),
      removeStorage: sb.asyncApi('removeStorage', (o) => {
        storage.delete(o.key)
        return later({ ok: true, res: { errMsg: 'removeStorage:ok' } })
      }),
      clearStorage: sb.asyncApi('clearStorage', () => {
        storage.clear()
        return later({ ok: true, res: { errMsg: 'clearStorage:ok' } })
      }),
      getStorageInfo: sb.asyncApi('getStorageInfo', () => later({ ok: true, res: info() })),
    }
  }
  // Alipay: object-style sync APIs; a missing key reads as `{ data: null }`.
  return {
    setStorageSync: (o: { key: string; data: unknown }) => {
      const err = write(o && o.key, o && o.data)
      return sb.toRealm(err ? { error: 15, errorMessage: err, success: false } : { success: true })
    },
    getStorageSync: (o: { key: string }) => sb.toRealm({ data: storage.has(o && o.key) ? storage.get(o.key) : null }),
    removeStorageSync: (o: { key: string }) => {
      storage.delete(o && o.key)
      return sb.toRealm({ success: true })
    },
    clearStorageSync: () => {
      storage.clear()
      return sb.toRealm({ success: true })
    },
    getStorageInfoSync: info,
    setStorage: sb.asyncApi('setStorage', (o) => {
      const err = write(o.key, o.data)
      return later(err ? { ok: false, res: { error: 15, errorMessage: err } } : { ok: true, res: { success: true } })
    }),
    getStorage: sb.asyncApi('getStorage', (o) => later({ ok: true, res: { data: storage.has(o.key) ? read(o.key) : null } })),
    removeStorage: sb.asyncApi('removeStorage', (o) => {
      storage.delete(o.key)
      return later({ ok: true, res: { success: true } })
    }),
    clearStorage: sb.asyncApi('clearStorage', () => {
      storage.clear()
      return later({ ok: true, res: { success: true } })
    }),
    getStorageInfo: sb.asyncApi('getStorageInfo', () => later({ ok: true, res: info() })),
  }
}
