// tokenrelay/taro on the REAL Taro 4 weapp runtime (simulated `wx` doing real HTTP to the reference
// server). The Alipay runtime runs in taro.alipay.test.ts: Taro binds one platform per process.
import { describe, expect, it } from 'vitest'
import { sharedTaroTests, useTaro } from '../../test/helpers/taro-suite.js'

const t = useTaro('weapp')

describe('tokenrelay/taro (weapp runtime)', () => {
  sharedTaroTests(t)

  it('without the adapter Taro weapp resolves a 401 like wx does (what the adapter builds on)', async () => {
    const res = await t.get(`${t.server.url}/api/bare`)
    expect(res).toMatchObject({ statusCode: 401, errMsg: 'request:ok' })
  })

  it("reads tabBar pages from WeChat's __wxConfig when the app config has none", async () => {
    const g = globalThis as { __wxConfig?: unknown }
    g.__wxConfig = { tabBar: { list: [{ pagePath: 'pages/login/index' }] } }
    try {
      await t.loggedIn({ exchange: undefined })
      t.server.control({ revokeUser: 'alice', expireAllNow: true })
      await t.get('/api/x').catch(() => {})
      expect(t.sim.navigations.map((n) => n.api)).toEqual(['switchTab'])
    } finally {
      delete g.__wxConfig
    }
  })
})
