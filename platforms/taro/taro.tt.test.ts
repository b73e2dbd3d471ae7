// tokenrelay/taro on the REAL Taro 4 Douyin runtime (`@tarojs/plugin-platform-tt`) over the simulated `tt`
// of mini-platform.ts (wx's conventions, `errNo` beside `errMsg` on failures, tt.login with `force`, `code`
// only for a user logged in to the host app), real HTTP to the reference server. Taro binds one platform
// per process: weapp and alipay run in taro.test.ts and taro.alipay.test.ts.
import { describe, expect, it, vi } from 'vitest'
import { douyinLoginTests } from '../../test/helpers/douyin.js'
import { sharedTaroTests, useTaro } from '../../test/helpers/taro-suite.js'

const t = useTaro('tt')

describe('tokenrelay/taro (tt runtime)', () => {
  sharedTaroTests(t)
  douyinLoginTests(t)

  it('without the adapter Taro on tt resolves a 401 like wx does (what the adapter builds on)', async () => {
    const res = await t.get(`${t.server.url}/api/bare`)
    expect(res).toMatchObject({ statusCode: 401, errMsg: 'request:ok' })
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
