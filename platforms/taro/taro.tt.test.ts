// tokenrelay/taro on the REAL Taro 4 Douyin runtime (`@tarojs/plugin-platform-tt`) over the simulated `tt`
// of mini-platform.ts (wx's conventions, `errNo` beside `errMsg` on failures, tt.login with `force`, `code`
// only for a user logged in to the host app), real HTTP to the reference server. Taro binds one platform
// per process: weapp and alipay run in taro.test.ts and taro.alipay.test.ts.
import { describe, expect, it, vi } from 'vitest'
import { exchange as exchangeCode } from '../../test/helpers/reference.js'
import { sharedTaroTests, useTaro } from '../../test/helpers/taro-suite.js'

const t = useTaro('tt')

describe('tokenrelay/taro (tt runtime)', () => {
  sharedTaroTests(t)

  it('without the adapter Taro on tt resolves a 401 like wx does (what the adapter builds on)', async () => {
    const res = await t.get(`${t.server.url}/api/bare`)
    expect(res).toMatchObject({ statusCode: 401, errMsg: 'request:ok' })
  })

  it('logs in silently: Taro.login reaches tt.login with force false, the code is exchanged, no popup', async () => {
    const exchange = vi.fn(exchangeCode)
    t.setup({ exchange }) // no credentials: the first request logs in through Taro.login → tt.login
    await expect(t.get('/api/me')).resolves.toMatchObject({ statusCode: 200, data: { generation: 1, user: 'alice' } })
    expect(t.sim.state.logins).toEqual([{ force: false }])
    expect(t.sim.state.popups).toBe(0)
    expect(exchange).toHaveBeenCalledTimes(1)
    expect(exchange.mock.calls[0][0]).toMatch(/^code-alice-/) // the code, never the anonymousCode
    expect(t.server.stats().logins).toBe(1)
  })

  it('the re-login that rescues a revoked refresh token is silent too (force false, no popup)', async () => {
    await t.loggedIn()
    t.server.control({ revokeUser: 'alice', expireAllNow: true })
    await expect(t.get('/api/rescued')).resolves.toMatchObject({ statusCode: 200, data: { user: 'alice' } })
    expect(t.sim.state.logins).toEqual([{ force: false }])
    expect(t.sim.state.popups).toBe(0)
  })

  it('a user not logged in to the host app (only anonymousCode): no popup, SESSION_EXPIRED, one navigation, exchange never called', async () => {
    const exchange = vi.fn(exchangeCode)
    t.setup({ exchange })
    t.sim.state.loggedInToHost = false
    const results = await Promise.all(Array.from({ length: 3 }, (_, i) => t.settled(t.get(`/api/anon/${i}`))))
    for (const r of results)
      expect(r).toMatchObject({ ok: false, value: { code: 'SESSION_EXPIRED', errMsg: 'request:fail SESSION_EXPIRED' } })
    expect(t.sim.state.logins).toEqual([{ force: false }])
    expect(t.sim.state.popups).toBe(0)
    expect(exchange).not.toHaveBeenCalled()
    expect(t.sim.navigations).toEqual([{ api: 'navigateTo', url: '/pages/login/index' }])
  })

  it("a network failure reaches the caller as tt gave it (errMsg and errNo, through Taro's promise), with no refresh", async () => {
    await t.loggedIn()
    const fail = vi.fn()
    const refused = await t.settled(t.Taro.request({ url: 'http://127.0.0.1:1/nothing', fail }))
    expect(refused).toMatchObject({ ok: false, value: { errMsg: expect.stringMatching(/^request:fail /), errNo: expect.any(Number) } })
    expect(fail).toHaveBeenCalledWith(refused.value)
    const download = await t.settled(t.Taro.downloadFile({ url: 'http://127.0.0.1:1/nothing.bin' }))
    expect(download).toMatchObject({
      ok: false,
      value: { errMsg: expect.stringMatching(/^downloadFile:fail /), errNo: expect.any(Number) },
    })
    expect(t.server.stats()).toMatchObject({ refreshAttempts: 0, logins: 1 })
  })
})
