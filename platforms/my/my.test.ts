import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { startServer } from '../../playground-server/server.js'
import type { RunningServer } from '../../playground-server/server.js'
import { createMy, tempFile } from '../../test/helpers/mini-platform.js'
import { exchangeAuthCode, loginDirect, refresh } from '../../test/helpers/reference.js'
import { trackUnhandled } from '../../test/helpers/unhandled.js'
import { install } from './index.js'
import type { InstalledRelay, PlatformOptions } from './index.js'

let server: RunningServer
let sim: ReturnType<typeof createMy>
let relay: InstalledRelay | undefined


/** The stubbed global, as app code sees it after install(). */
const my = new Proxy({} as Record<string, (o: object) => any>, { get: (_, name: string) => (globalThis as any).my[name] })
const get = (path: string, extra: object = {}) => my.request({ url: path, ...extra }) as Promise<any>

async function loggedIn(options: PlatformOptions = {}, pages?: string[]) {
  sim = createMy({ pages })
  vi.stubGlobal('my', sim.my)
  vi.stubGlobal('getCurrentPages', sim.getCurrentPages)
  relay = install({ baseURL: server.url, refresh, exchange: exchangeAuthCode, loginPage: '/pages/login/index', ...options })
  if ('exchange' in options) {
    await relay.setCredentials(await loginDirect(server.url))
  } else {
    await get('/api/warmup') // silent login through my.getAuthCode
  }
  expect(server.stats().logins).toBe(1)
  return relay
}

beforeEach(async () => {
  server = await startServer({ port: 0 })
})
afterEach(async () => {
  relay?.uninstall()
  relay = undefined
  vi.unstubAllGlobals()
  await server.close()
})

describe('tokenrelay/my', () => {
  it('401s on the fail path (error 19): 20 requests + upload + download, one refresh, replays with the new token', async () => {
    await loggedIn()
    server.control({ expireAllNow: true })
    const results = await Promise.all([
      ...Array.from({ length: 20 }, (_, i) => get(`/api/item/${i}`)),
      my.uploadFile({ url: `${server.url}/api/upload`, filePath: tempFile('alipay!'), fileName: 'file', fileType: 'image' }),
      my.downloadFile({ url: `${server.url}/api/download/a.bin` }),
    ])
    const stats = server.stats()
    expect(stats.refreshes).toBe(1)
    for (let i = 0; i < 20; i++) {
      expect(stats.hits[`/api/item/${i}`].map((h) => [h.status, h.generation])).toEqual([
        [401, 1],
        [200, 2],
      ])
      // Normalised both ways: Alipay's status/headers and wx-style statusCode/header.
      expect(results[i]).toMatchObject({ status: 200, statusCode: 200, data: { generation: 2 } })
      expect(results[i].header).toBe(results[i].headers)
    }
    expect(JSON.parse(results[20].data)).toMatchObject({ generation: 2, file: { size: 7 } })
    expect(sim.state.uploads.every((u) => u.fileType === 'image')).toBe(true)
    expect(stats.hits['/api/download/a.bin'].map((h) => h.status)).toEqual([401, 200])
  })

  it('sends the token in `headers` as strings, whichever spelling the caller used', async () => {
    await loggedIn()
    const res = await get('/api/h', { headers: { 'X-Num': 42 as unknown as string } })
    expect(res.statusCode).toBe(200)
    expect(server.stats().hits['/api/h'][0].generation).toBe(1)
  })

  it('a final non-2xx still reaches the caller on fail, as Alipay delivers it', async () => {
    await loggedIn()
    const fail = vi.fn()
    const success = vi.fn()
    await new Promise<void>((done) => my.request({ url: '/api/forbidden', success, fail, complete: () => done() }))
    expect(success).not.toHaveBeenCalled()
    expect(fail.mock.calls[0][0]).toMatchObject({ error: 19, status: 403, statusCode: 403 })
    expect(server.stats().refreshes).toBe(0) // insufficient_scope is not an expiry
  })

  it('error 14 (JSON decode failure on a 2xx) is not an expiry and starts no refresh', async () => {
    await loggedIn()
    await expect(get(`/api/download/x.bin`)).rejects.toMatchObject({ error: 14 })
    expect(server.stats().refreshes).toBe(0)
  })

  it('a late 401 is replayed without a second refresh', async () => {
    await loggedIn()
    server.control({ expireAllNow: true })
    const slow = get('/api/slow?delay=300')
    await get('/api/fast')
    await expect(slow).resolves.toMatchObject({ data: { generation: 2 } })
    expect(server.stats().refreshes).toBe(1)
  })

  it('body-code expiry refreshes once', async () => {
    await loggedIn({ expired: { codes: [1002] } })
    server.control({ expiryMode: '1002', expireAllNow: true })
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => get(`/api/b/${i}`)))
    expect(results.map((r) => r.data.generation)).toEqual([2, 2, 2, 2, 2])
    expect(server.stats().refreshes).toBe(1)
  })

  it('abort while waiting for the refresh: ABORTED, never sent', async () => {
    await loggedIn()
    server.control({ expireAllNow: true, latencyMs: 100 })
    const first = get('/api/first')
    await vi.waitUntil(() => relay!.refreshing)
    const task = my.request({ url: '/api/aborted' })
    task.abort()
    await expect(task).rejects.toMatchObject({ code: 'ABORTED', errMsg: 'request:fail abort' })
    await first
    expect(server.stats().hits['/api/aborted']).toBeUndefined()
  })

  it('session end: every caller rejects once, one navigation, storage cleared', async () => {
    const onSessionExpired = vi.fn()
    await loggedIn({ exchange: undefined, onSessionExpired })
    expect(sim.storage.get('tokenrelay')).toEqual(expect.stringContaining('accessToken'))
    server.control({ revokeUser: 'alice', expireAllNow: true })
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => get(`/api/x/${i}`)))
    expect(results.map((r) => r.status === 'rejected' && r.reason.code)).toEqual(Array(8).fill('SESSION_EXPIRED'))
    expect(onSessionExpired).toHaveBeenCalledTimes(1)
    expect(sim.navigations).toEqual([{ api: 'navigateTo', url: '/pages/login/index' }])
    expect(sim.storage.has('tokenrelay')).toBe(false)
  })

  it('a corrupt stored value (legacy APDataStorage object) means logged out, no throw', async () => {
    sim = createMy()
    sim.storage.set('tokenrelay', { APDataStorage: 'legacy' })
    vi.stubGlobal('my', sim.my)
    relay = install({ baseURL: server.url })
    await relay.ready
    expect(relay.getCredentials()).toBeNull()
  })

  it('callback style gets only the final result', async () => {
    await loggedIn()
    server.control({ expireAllNow: true })
    const seen: string[] = []
    my.request({ url: '/api/cb', success: (r: any) => seen.push(`success ${r.status}`), fail: () => seen.push('fail'), complete: () => seen.push('complete') })
    await vi.waitUntil(() => seen.length === 2)
    expect(seen).toEqual(['success 200', 'complete'])
  })

  it('uninstall restores my.request', () => {
    sim = createMy()
    const original = sim.my.request
    vi.stubGlobal('my', sim.my)
    const r = install({ baseURL: server.url })
    expect(sim.my.request).not.toBe(original)
    r.uninstall()
    expect(sim.my.request).toBe(original)
  })
  it('install() twice: the second relay replaces the first, one warning names both call sites, uninstall() is idempotent', async () => {
    sim = createMy()
    vi.stubGlobal('my', sim.my)
    const original = sim.my.request
    const warn = vi.fn()
    const logger = { log() {}, warn }
    const first = install({ baseURL: server.url, refresh, logger })
    await first.setCredentials(await loginDirect(server.url, 'code-alice-first'))
    const second = (relay = install({ baseURL: server.url, refresh, logger }))
    await second.setCredentials(await loginDirect(server.url, 'code-bob-second'))
    await expect(get('/api/who')).resolves.toMatchObject({ statusCode: 200, data: { user: 'bob' } })
    expect(server.stats().hits['/api/who'].map((h) => h.user)).toEqual(['bob'])
    expect(warn).toHaveBeenCalledTimes(1)
    expect(warn.mock.calls[0][0]).toMatch(/^\[tokenrelay\] tokenrelay\/my installed twice/)
    expect(warn.mock.calls[0][0].match(/my\.test\.ts:\d+:\d+/g)).toHaveLength(2)
    first.uninstall()
    expect(sim.my.request).not.toBe(original)
    second.uninstall()
    second.uninstall()
    expect(sim.my.request).toBe(original)
    expect(warn).toHaveBeenCalledTimes(1)
  })

  it('a throwing success or fail callback: complete still runs, last; the error is reported once; no unhandled rejection', async () => {
    const unhandled = trackUnhandled()
    try {
      const warn = vi.fn()
      await loggedIn({ logger: { log() {}, warn } })
      const events: string[] = []
      const thrown = [new Error('success threw'), new Error('fail threw')]
      const record = (name: string, error?: Error) => () => {
        events.push(name)
        if (error) throw error
      }
      my.request({ url: '/api/ok', success: record('success', thrown[0]), fail: record('fail'), complete: record('complete') })
      await vi.waitUntil(() => events.length >= 2)
      // A final 403: Alipay's fail path, which the adapter reproduces.
      my.request({ url: '/api/forbidden', success: record('success'), fail: record('fail', thrown[1]), complete: record('complete') })
      await vi.waitUntil(() => events.length >= 4)
      await unhandled.settle()
      expect(events).toEqual(['success', 'complete', 'fail', 'complete'])
      for (const error of thrown) expect(warn.mock.calls.filter((c) => c.includes(error))).toHaveLength(1)
      expect(unhandled.reasons).toEqual([])
    } finally {
      unhandled.stop()
    }
  })

  it('a my.getAuthCode that yields no authCode ends the session: SESSION_EXPIRED, exchange never called, one navigation, no retry', async () => {
    sim = createMy()
    vi.stubGlobal('my', sim.my)
    vi.stubGlobal('getCurrentPages', sim.getCurrentPages)
    const exchange = vi.fn(exchangeAuthCode)
    relay = install({ baseURL: server.url, refresh, exchange, loginPage: '/pages/login/index', retry: { attempts: 2, backoffMs: 10 } })
    let logins = 0
    sim.my.getAuthCode = (o: { success(r: object): void }) => void (logins++, setTimeout(() => o.success({})))
    await expect(get('/api/first')).rejects.toMatchObject({ code: 'SESSION_EXPIRED', errMsg: 'request:fail SESSION_EXPIRED' })
    expect(exchange).not.toHaveBeenCalled()
    expect(logins).toBe(1)
    expect(sim.navigations).toEqual([{ api: 'navigateTo', url: '/pages/login/index' }])
  })
})
