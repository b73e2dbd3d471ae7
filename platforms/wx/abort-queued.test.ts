// abort() on a wx request that is already queued behind a refresh. An abort in the same tick as the call
// (wx.test.ts) is caught before the request starts waiting; this one arrives during the wait, where only
// the engine's listener on the adapter's signal can reject it.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { startServer } from '../../playground-server/server.js'
import type { RunningServer } from '../../playground-server/server.js'
import type { RefreshContext } from '../../src/index.js'
import { createWx } from '../../test/helpers/mini-platform.js'
import { loginDirect, refresh } from '../../test/helpers/reference.js'
import { install } from './index.js'
import type { InstalledRelay } from './index.js'

let server: RunningServer
let relay: InstalledRelay | undefined

/** The stubbed global, as app code sees it after install(). */
const wx = new Proxy({} as Record<string, (o: object) => any>, { get: (_, name: string) => (globalThis as any).wx[name] })

beforeEach(async () => {
  server = await startServer({ port: 0 })
})
afterEach(async () => {
  relay?.uninstall()
  relay = undefined
  vi.unstubAllGlobals()
  await server.close()
})

describe('tokenrelay/wx: abort while queued', () => {
  it('abort() after `queued` rejects with ABORTED before the refresh is released; the request is never sent', async () => {
    const sim = createWx()
    vi.stubGlobal('wx', sim.wx)
    vi.stubGlobal('getCurrentPages', sim.getCurrentPages)
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    relay = install({
      baseURL: server.url,
      refresh: async (ctx: RefreshContext) => (await held, refresh(ctx)),
      loginPage: '/pages/login/index',
    })
    await relay.setCredentials(await loginDirect(server.url))
    server.control({ expireAllNow: true })
    const first = wx.request({ url: '/api/first' })
    await vi.waitUntil(() => relay!.refreshing)

    const queued = new Promise<void>((resolve) => relay!.on('queued', ({ request }) => request.url.endsWith('/api/aborted') && resolve()))
    const fail = vi.fn()
    const task = wx.request({ url: '/api/aborted', fail })
    let outcome = 'pending'
    task.then(
      () => (outcome = 'fulfilled'),
      (error: { errMsg: string }) => (outcome = error.errMsg),
    )
    await queued
    task.abort()
    await new Promise((resolve) => setImmediate(resolve)) // every promise job has run; the refresh is held
    expect(outcome).toBe('request:fail abort')
    expect(fail).toHaveBeenCalledTimes(1)
    expect(relay.refreshing).toBe(true)
    expect(server.stats().refreshes).toBe(0)

    release()
    await expect(first).resolves.toMatchObject({ statusCode: 200 })
    expect(server.stats().refreshes).toBe(1)
    expect(server.stats().hits['/api/aborted']).toBeUndefined()
  })
})
