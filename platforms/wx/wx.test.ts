import { readFileSync } from 'node:fs'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { downloadContent, startServer } from '../../playground-server/server.js'
import type { RunningServer } from '../../playground-server/server.js'
import { createWx, tempFile } from '../../test/helpers/mini-platform.js'
import { exchange, loginDirect, refresh } from '../../test/helpers/reference.js'
import { trackUnhandled } from '../../test/helpers/unhandled.js'
import { install } from './index.js'
import type { InstalledRelay, PlatformOptions } from './index.js'

let server: RunningServer
let sim: ReturnType<typeof createWx>
let relay: InstalledRelay | undefined

const raise = (error: Error) => {
  throw error
}

type Res = { statusCode: number; data: any; tempFilePath?: string }
/** The stubbed global, as app code sees it after install(). */
const wx = new Proxy({} as Record<string, (o: object) => any>, { get: (_, name: string) => (globalThis as any).wx[name] })
/** Promise style: the patched wx.request returns a task that is also a promise. */
const get = (path: string, extra: object = {}) => wx.request({ url: path, ...extra }) as Promise<Res>

function setup(options: PlatformOptions = {}, pages?: string[]) {
  sim = createWx({ pages })
  vi.stubGlobal('wx', sim.wx)
  vi.stubGlobal('getCurrentPages', sim.getCurrentPages)
  relay = install({ baseURL: server.url, refresh, exchange, loginPage: '/pages/login/index', ...options })
  return relay
}

/** Logged in as alice. With `exchange` (the default here) the first request logs in silently via wx.login. */
async function loggedIn(options: PlatformOptions = {}, pages?: string[]) {
  const r = setup(options, pages)
  if (!r.getCredentials() && !('exchange' in options)) await get('/api/warmup')
  else {
    await r.setCredentials(await loginDirect(server.url))
  }
  expect(server.stats().logins).toBe(1)
  return r
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

describe('tokenrelay/wx', () => {
  it('20 requests + an upload + a download meeting an expired token: one refresh, every replay with the new token', async () => {
    await loggedIn()
    server.control({ expireAllNow: true })
    const file = tempFile('the file body')
    const results = await Promise.all([
      ...Array.from({ length: 20 }, (_, i) => get(`/api/item/${i}`)),
      wx.uploadFile({ url: `${server.url}/api/upload`, filePath: file, name: 'file', formData: { note: 'hi' } }),
      wx.downloadFile({ url: `${server.url}/api/download/report.bin` }),
    ])
    const stats = server.stats()
    expect(stats.refreshes).toBe(1)
    expect(stats.logins).toBe(1)
    for (let i = 0; i < 20; i++) {
      expect(stats.hits[`/api/item/${i}`].map((h) => [h.status, h.generation])).toEqual([
        [401, 1],
        [200, 2],
      ])
      expect(results[i]).toMatchObject({ statusCode: 200, data: { generation: 2, path: `/api/item/${i}` } })
    }
    expect(stats.hits['/api/upload'].map((h) => h.status)).toEqual([401, 200])
    const upload = JSON.parse(results[20].data) // wx upload bodies are strings
    expect(upload).toMatchObject({ generation: 2, fields: { note: 'hi' }, file: { size: 13 } })
    expect(stats.hits['/api/download/report.bin'].map((h) => h.status)).toEqual([401, 200])
    expect(results[21].statusCode).toBe(200)
    expect(readFileSync(results[21].tempFilePath!)).toEqual(downloadContent('report.bin'))
  })

  it('a late 401 for the old token is replayed with the new one and starts no second refresh', async () => {
    await loggedIn()
    server.control({ expireAllNow: true })
    const slow = get('/api/slow?delay=300')
    await get('/api/fast') // refreshes while the slow one's 401 is on its way back
    expect(server.stats().refreshes).toBe(1)
    await expect(slow).resolves.toMatchObject({ statusCode: 200, data: { generation: 2 } })
    expect(server.stats().refreshes).toBe(1)
    expect(server.stats().hits['/api/slow'].map((h) => h.generation)).toEqual([1, 2])
  })

  it('body-code expiry (200 with code 99997) refreshes once too', async () => {
    await loggedIn({ expired: { codes: [99997] } })
    server.control({ expiryMode: '99997', expireAllNow: true })
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => get(`/api/b/${i}`)))
    expect(results.map((r) => r.data.code)).toEqual([0, 0, 0, 0, 0])
    expect(server.stats().refreshes).toBe(1)
  })

  it('an upload answered with a string body code is parsed, refreshed and re-sent', async () => {
    await loggedIn({ expired: { status: [401], codes: ['0002'] } })
    server.control({ expiryMode: '0002', expireAllNow: true })
    const res = (await wx.uploadFile({ url: `${server.url}/api/upload`, filePath: tempFile('abc'), name: 'f' })) as Res
    expect(typeof res.data).toBe('string')
    expect(JSON.parse(res.data)).toMatchObject({ ok: true, generation: 2, file: { size: 3 } })
    expect(server.stats().hits['/api/upload']).toHaveLength(2)
  })

  it('a download still answered 401 after the session ended is a failure, not a success', async () => {
    await loggedIn({ exchange: undefined })
    server.control({ revokeUser: 'alice', expireAllNow: true })
    const success = vi.fn()
    const fail = vi.fn()
    await new Promise<void>((done) =>
      wx.downloadFile({ url: `${server.url}/api/download/x.bin`, success, fail, complete: () => done() }),
    )
    expect(success).not.toHaveBeenCalled()
    expect(fail).toHaveBeenCalledTimes(1)
    expect(fail.mock.calls[0][0]).toMatchObject({ code: 'SESSION_EXPIRED', errMsg: 'downloadFile:fail SESSION_EXPIRED' })
  })

  it('abort() on a request waiting for the refresh rejects it with ABORTED and it is never sent', async () => {
    await loggedIn()
    server.control({ expireAllNow: true, latencyMs: 100 })
    const first = get('/api/first')
    await vi.waitUntil(() => relay!.refreshing)
    const fail = vi.fn()
    const task = wx.request({ url: '/api/aborted', fail })
    task.abort()
    await expect(task).rejects.toMatchObject({ code: 'ABORTED', errMsg: 'request:fail abort' })
    expect(fail).toHaveBeenCalledTimes(1)
    await expect(first).resolves.toMatchObject({ statusCode: 200 })
    expect(server.stats().hits['/api/aborted']).toBeUndefined()
    expect(server.stats().refreshes).toBe(1)
  })

  it('abort() on a request in flight aborts the platform task', async () => {
    await loggedIn()
    const task = wx.request({ url: '/api/slow?delay=2000' })
    await new Promise((r) => setTimeout(r, 50))
    task.abort()
    await expect(task).rejects.toMatchObject({ code: 'ABORTED' })
  })

  it('silent re-login through wx.login rescues a revoked refresh token', async () => {
    await loggedIn()
    server.control({ revokeUser: 'alice', expireAllNow: true })
    await expect(get('/api/rescued')).resolves.toMatchObject({ statusCode: 200, data: { generation: 1 } })
    expect(server.stats()).toMatchObject({ logins: 2, refreshes: 0, refreshFailures: 1 })
    expect(sim.navigations).toEqual([])
  })

  it('the session ends once: every caller rejects with SESSION_EXPIRED and one navigation to the login page', async () => {
    const onSessionExpired = vi.fn()
    await loggedIn({ onSessionExpired, exchange: undefined }, ['pages/home/index', 'pages/detail/index'])
    server.control({ revokeUser: 'alice', expireAllNow: true })
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => get(`/api/x/${i}`)))
    expect(results.every((r) => r.status === 'rejected' && r.reason.code === 'SESSION_EXPIRED')).toBe(true)
    expect(onSessionExpired).toHaveBeenCalledTimes(1)
    expect(sim.navigations).toEqual([{ api: 'navigateTo', url: '/pages/login/index' }])
    expect(sim.storage.has('tokenrelay')).toBe(false)
    // After the user logs in again, returnAfterLogin() goes back to where they were.
    await relay!.setCredentials({ accessToken: 'x' })
    relay!.returnAfterLogin()
    expect(sim.navigations[1]).toEqual({ api: 'redirectTo', url: '/pages/detail/index' })
  })

  it('a full page stack uses redirectTo; a tabBar login page uses switchTab', async () => {
    await loggedIn({ exchange: undefined }, Array.from({ length: 10 }, (_, i) => `pages/p${i}/index`))
    server.control({ revokeUser: 'alice', expireAllNow: true })
    await get('/api/x').catch(() => {})
    expect(sim.navigations).toEqual([{ api: 'redirectTo', url: '/pages/login/index' }])
    relay!.uninstall()
    await server.close()
    server = await startServer({ port: 0 })
    await loggedIn({ exchange: undefined, tabBar: ['pages/login/index'] })
    server.control({ revokeUser: 'alice', expireAllNow: true })
    await get('/api/x').catch(() => {})
    expect(sim.navigations).toEqual([{ api: 'switchTab', url: '/pages/login/index' }])
  })

  it('callback style: success and complete get the replayed result; the task has abort()', async () => {
    await loggedIn()
    server.control({ expireAllNow: true })
    const events: string[] = []
    const task = wx.request({
      url: '/api/cb',
      success: (r: Res) => events.push(`success ${r.statusCode} gen${r.data.generation}`),
      fail: () => events.push('fail'),
      complete: () => events.push('complete'),
    })
    expect(typeof task.abort).toBe('function')
    await vi.waitUntil(() => events.length === 2)
    expect(events).toEqual(['success 200 gen2', 'complete'])
  })

  it('stores credentials in wx storage and survives a throwing setStorageSync', async () => {
    await loggedIn()
    expect(JSON.parse(sim.storage.get('tokenrelay') as string)).toMatchObject({ accessToken: expect.any(String) })
    sim.state.storageFull = true
    const errors: unknown[] = []
    relay!.on('error', (e) => errors.push(e.error))
    server.control({ expireAllNow: true })
    await expect(get('/api/after-full')).resolves.toMatchObject({ data: { generation: 2 } })
    expect(String(errors[0])).toContain('exceed storage')
  })

  it('auth: false sends no token and a 401 there is returned as is', async () => {
    await loggedIn()
    const res = await get('/api/public', { auth: false })
    expect(res.statusCode).toBe(401)
    expect(server.stats().hits['/api/public'][0].generation).toBeNull()
    expect(server.stats().refreshes).toBe(0)
  })

  it('no token goes to another host', async () => {
    await loggedIn()
    const other = await startServer({ port: 0 })
    try {
      const res = await get(`${other.url}/api/elsewhere`)
      expect(res.statusCode).toBe(401)
      expect(other.stats().hits['/api/elsewhere'][0].generation).toBeNull()
      expect(server.stats().refreshes).toBe(0)
    } finally {
      await other.close()
    }
  })

  it('uninstall restores the original functions', () => {
    sim = createWx()
    const originals = { request: sim.wx.request, uploadFile: sim.wx.uploadFile, downloadFile: sim.wx.downloadFile }
    vi.stubGlobal('wx', sim.wx)
    const r = install({ baseURL: server.url })
    expect(sim.wx.request).not.toBe(originals.request)
    r.uninstall()
    expect(sim.wx.request).toBe(originals.request)
    expect(sim.wx.uploadFile).toBe(originals.uploadFile)
    expect(sim.wx.downloadFile).toBe(originals.downloadFile)
  })
  it('install() twice: the second relay replaces the first, one warning names both call sites, uninstall() is idempotent', async () => {
    sim = createWx()
    vi.stubGlobal('wx', sim.wx)
    const original = sim.wx.request
    const warn = vi.fn()
    const logger = { log() {}, warn }
    const first = install({ baseURL: server.url, refresh, logger })
    await first.setCredentials(await loginDirect(server.url, 'code-alice-first'))
    const second = (relay = install({ baseURL: server.url, refresh, logger }))
    await second.setCredentials(await loginDirect(server.url, 'code-bob-second'))
    // The platform sees the second relay's token, sent once: nothing of the first is left around it.
    await expect(get('/api/who')).resolves.toMatchObject({ statusCode: 200, data: { user: 'bob' } })
    expect(server.stats().hits['/api/who'].map((h) => h.user)).toEqual(['bob'])
    expect(warn).toHaveBeenCalledTimes(1)
    expect(warn.mock.calls[0][0]).toMatch(/^\[tokenrelay\] tokenrelay\/wx installed twice/)
    expect(warn.mock.calls[0][0].match(/wx\.test\.ts:\d+:\d+/g)).toHaveLength(2)
    // The first was uninstalled by the second: uninstalling it again touches nothing.
    first.uninstall()
    expect(sim.wx.request).not.toBe(original)
    second.uninstall()
    second.uninstall()
    expect(sim.wx.request).toBe(original)
    expect(warn).toHaveBeenCalledTimes(1)
  })

  it('a throwing success or fail callback: complete still runs, last; the error is reported once; no unhandled rejection', async () => {
    const unhandled = trackUnhandled()
    try {
      const warn = vi.fn()
      await loggedIn({ exchange: undefined, logger: { log() {}, warn } })
      const events: string[] = []
      const thrown = [new Error('success threw'), new Error('fail threw')]
      wx.request({
        url: '/api/ok',
        success: () => (events.push('success'), raise(thrown[0])),
        fail: () => events.push('fail'),
        complete: () => events.push('complete'),
      })
      await vi.waitUntil(() => events.length >= 2)
      server.control({ revokeUser: 'alice', expireAllNow: true })
      wx.request({
        url: '/api/ended',
        success: () => events.push('success'),
        fail: () => (events.push('fail'), raise(thrown[1])),
        complete: () => events.push('complete'),
      })
      await vi.waitUntil(() => events.length >= 4)
      await unhandled.settle()
      expect(events).toEqual(['success', 'complete', 'fail', 'complete'])
      for (const error of thrown) expect(warn.mock.calls.filter((c) => c.includes(error))).toHaveLength(1)
      expect(unhandled.reasons).toEqual([])
    } finally {
      unhandled.stop()
    }
  })

  it('a wx.login that yields no code ends the session: SESSION_EXPIRED, exchange never called, one navigation, no retry', async () => {
    const exchangeCode = vi.fn(exchange)
    setup({ exchange: exchangeCode, retry: { attempts: 2, backoffMs: 10 } })
    let logins = 0
    sim.wx.login = (o: { success(r: object): void }) => void (logins++, setTimeout(() => o.success({ errMsg: 'login:ok' })))
    await expect(get('/api/first')).rejects.toMatchObject({ code: 'SESSION_EXPIRED', errMsg: 'request:fail SESSION_EXPIRED' })
    expect(exchangeCode).not.toHaveBeenCalled()
    expect(logins).toBe(1)
    expect(sim.navigations).toEqual([{ api: 'navigateTo', url: '/pages/login/index' }])
  })
})
