// Douyin's silent login, the same whichever way the app reaches `tt` (tokenrelay/tt, Taro `--type tt`,
// uni-app mp-toutiao): tt.login with `force: false`, so a user not logged in to the host app gets no popup
// (only an `anonymousCode`, which is never exchanged). Run from platforms/tt/tt.test.ts,
// platforms/taro/taro.tt.test.ts and platforms/uniapp/uniapp.test.ts over the simulated `tt` (createTt).
import { expect, it, vi } from 'vitest'
import { exchange } from './reference.js'

/** What the three suites' contexts (adapter-suite, taro-suite) have in common, as these tests use it. */
export interface DouyinContext {
  setup(options: { exchange: typeof exchange }): unknown
  loggedIn(): Promise<unknown>
  get(url: string): Promise<unknown>
  settled(p: Promise<unknown>): Promise<{ ok: boolean; value: any }>
  readonly sim: { state: Record<string, any>; navigations: { api: string; url: string }[] }
  readonly server: { control(knobs: Record<string, unknown>): unknown; stats(): Record<string, any> }
}

export function douyinLoginTests(t: DouyinContext) {
  it('logs in silently: tt.login with force false, the code exchanged (never the anonymousCode), no popup', async () => {
    const exchangeCode = vi.fn(exchange)
    await t.setup({ exchange: exchangeCode }) // no credentials: the first request logs in
    await expect(t.get('/api/me')).resolves.toMatchObject({ statusCode: 200, data: { generation: 1, user: 'alice' } })
    expect(t.sim.state.logins).toEqual([{ force: false }])
    expect(t.sim.state.popups).toBe(0)
    expect(exchangeCode).toHaveBeenCalledTimes(1)
    expect(exchangeCode.mock.calls[0][0]).toMatch(/^code-alice-/)
    expect(t.server.stats().logins).toBe(1)
  })

  it('the re-login that rescues a revoked refresh token is silent too (force false, no popup)', async () => {
    await t.loggedIn()
    t.server.control({ revokeUser: 'alice', expireAllNow: true })
    await expect(t.get('/api/rescued')).resolves.toMatchObject({ statusCode: 200, data: { user: 'alice' } })
    expect(t.sim.state.logins).toEqual([{ force: false }])
    expect(t.sim.state.popups).toBe(0)
    expect(t.server.stats()).toMatchObject({ logins: 2, refreshFailures: 1 })
  })

  it('a user not logged in to the host app (only anonymousCode): no popup, SESSION_EXPIRED, one navigation, exchange never called', async () => {
    const exchangeCode = vi.fn(exchange)
    await t.setup({ exchange: exchangeCode })
    t.sim.state.loggedInToHost = false
    const results = await Promise.all(Array.from({ length: 3 }, (_, i) => t.settled(t.get(`/api/anon/${i}`))))
    for (const r of results)
      expect(r).toMatchObject({ ok: false, value: { code: 'SESSION_EXPIRED', errMsg: 'request:fail SESSION_EXPIRED' } })
    expect(t.sim.state.logins).toEqual([{ force: false }])
    expect(t.sim.state.popups).toBe(0)
    expect(exchangeCode).not.toHaveBeenCalled()
    expect(t.sim.navigations).toEqual([{ api: 'navigateTo', url: '/pages/login/index' }])
  })
}
