// Taro.request aborted once it is queued behind a refresh, by task.abort() and by the caller's own
// `signal` (Taro H5's option). The shared suite aborts in the same tick as the call, which the engine
// catches before the request starts waiting; here the abort arrives during the wait, where only the
// listeners (the interceptor's on the caller's signal, the engine's on the adapter's) can reject it.
import { describe, expect, it, vi } from 'vitest'
import type { RefreshContext } from '../../src/index.js'
import { refresh } from '../../test/helpers/reference.js'
import { useTaro } from '../../test/helpers/taro-suite.js'

const t = useTaro('weapp')

/** Logged in, every token expired, and a refresh that waits for `release()`, already running for `/api/first`. */
async function heldRefresh() {
  let release!: () => void
  const held = new Promise<void>((resolve) => (release = resolve))
  await t.loggedIn({ refresh: async (ctx: RefreshContext) => (await held, refresh(ctx)) })
  t.server.control({ expireAllNow: true })
  const first = t.get('/api/first')
  await vi.waitUntil(() => t.relay.refreshing)
  const queued = new Promise<void>((resolve) => t.relay.on('queued', ({ request }) => request.url.endsWith('/api/aborted') && resolve()))
  return { first, queued, release }
}

/** How `task` has settled so far: 'pending', 'fulfilled', or the errMsg it rejected with. */
function outcomeOf(task: Promise<unknown>) {
  const seen = { outcome: 'pending' }
  task.then(
    () => (seen.outcome = 'fulfilled'),
    (error: { errMsg: string }) => (seen.outcome = error.errMsg),
  )
  return seen
}

/** Every promise job has run (the held refresh cannot settle meanwhile). */
const drained = () => new Promise((resolve) => setImmediate(resolve))

describe('tokenrelay/taro (weapp runtime): abort while queued', () => {
  it('task.abort() after `queued` rejects with ABORTED before the refresh is released; the request is never sent', async () => {
    const { first, queued, release } = await heldRefresh()
    const fail = vi.fn()
    const complete = vi.fn()
    const task = t.Taro.request({ url: '/api/aborted', fail, complete })
    const seen = outcomeOf(task)
    await queued
    task.abort()
    await drained()
    expect(seen.outcome).toBe('request:fail abort')
    expect(fail).toHaveBeenCalledTimes(1)
    expect(complete).toHaveBeenCalledTimes(1)
    expect(t.relay.refreshing).toBe(true)
    expect(t.server.stats().refreshes).toBe(0)

    release()
    await expect(first).resolves.toMatchObject({ statusCode: 200, data: { generation: 2 } })
    expect(t.server.stats().refreshes).toBe(1)
    expect(t.server.stats().hits['/api/aborted']).toBeUndefined()
  })

  it("the caller's own signal aborted after `queued` does the same", async () => {
    const { first, queued, release } = await heldRefresh()
    const controller = new AbortController()
    const task = t.get('/api/aborted', { signal: controller.signal })
    const seen = outcomeOf(task)
    await queued
    controller.abort()
    await drained()
    expect(seen.outcome).toBe('request:fail abort')
    expect(t.relay.refreshing).toBe(true)

    release()
    await expect(first).resolves.toMatchObject({ statusCode: 200 })
    expect(t.server.stats().hits['/api/aborted']).toBeUndefined()
  })
})
