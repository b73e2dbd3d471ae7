// tokenrelay/taro against odd but real runtime states (REAL Taro 4 weapp runtime, simulated `wx` over real
// HTTP): a `__wxConfig` without `tabBar`, a caller's `signal` that is not an AbortSignal, and callback
// callers whose failure must not surface as an unhandled rejection.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { useTaro } from '../../test/helpers/taro-suite.js'
import { trackUnhandled } from '../../test/helpers/unhandled.js'

const t = useTaro('weapp')
const g = globalThis as Record<string, unknown>

afterEach(() => {
  delete g.__wxConfig
})

/** Ends the session (revoked, no silent login) and returns how the login page was opened. */
async function endSession() {
  await t.loggedIn({ exchange: undefined })
  t.server.control({ revokeUser: 'alice', expireAllNow: true })
  await t.get('/api/x').catch(() => {})
  return t.sim.navigations.map((n) => n.api)
}

describe('tokenrelay/taro (weapp runtime): odd runtime states', () => {
  it("WeChat's __wxConfig without a tabBar: the login page still opens, with navigateTo", async () => {
    g.__wxConfig = {}
    expect(await endSession()).toEqual(['navigateTo'])
  })

  it("a caller's `signal` that is not an AbortSignal is passed along and ignored", async () => {
    await t.loggedIn()
    await expect(t.get('/api/x', { signal: {} })).resolves.toMatchObject({ statusCode: 200 })
  })

  it.each(['success', 'fail', 'complete'])('a failed call with only %s raises no unhandled rejection', async (callback) => {
    await t.loggedIn({ exchange: undefined })
    t.server.control({ revokeUser: 'alice', expireAllNow: true })
    const unhandled = trackUnhandled()
    try {
      const fn = vi.fn()
      t.Taro.request({ url: '/api/x', [callback]: fn })
      await vi.waitUntil(() => t.sim.navigations.length === 1)
      await unhandled.settle()
      expect(unhandled.reasons).toEqual([])
    } finally {
      unhandled.stop()
    }
  })
})
