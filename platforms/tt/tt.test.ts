// tokenrelay/tt on a simulated Douyin `tt` (wx's conventions, `errNo` on failures, tt.login with `force`,
// `code` and `anonymousCode`) doing real HTTP to the reference server. The scenarios every callback-style
// adapter shares are in test/helpers/adapter-suite.ts; Douyin's own are below.
import { describe, expect, it, vi } from 'vitest'
import { sharedAdapterTests, useAdapter } from '../../test/helpers/adapter-suite.js'
import { createTt } from '../../test/helpers/mini-platform.js'
import { exchange } from '../../test/helpers/reference.js'
import { createTtRelay, install } from './index.js'

type Sim = ReturnType<typeof createTt> & { api: ReturnType<typeof createTt>['tt'] }

const t = useAdapter<Sim>({
  name: 'tt',
  family: 'weixin',
  app: 'tt',
  install,
  load: ({ pages }) => {
    const sim = createTt({ pages })
    vi.stubGlobal('tt', sim.tt)
    vi.stubGlobal('getCurrentPages', sim.getCurrentPages)
    return { ...sim, api: sim.tt }
  },
  exchange,
  patches: true,
  upload: { name: 'file' },
  tabBarLogin: () => ({ tabBar: ['pages/login/index'] }),
})

describe('tokenrelay/tt', () => {
  sharedAdapterTests(t)

  it('logs in silently: tt.login with force false, the code exchanged, anonymousCode never sent', async () => {
    const exchangeCode = vi.fn(exchange)
    await t.setup({ exchange: exchangeCode })
    await expect(t.get('/api/me')).resolves.toMatchObject({ statusCode: 200, data: { generation: 1 } })
    expect(t.sim.state.logins).toEqual([{ force: false }])
    expect(exchangeCode).toHaveBeenCalledTimes(1)
    expect(exchangeCode.mock.calls[0][0]).toMatch(/^code-alice-/)
    expect(t.sim.state.popups).toBe(0)
  })

  it('a user not logged in to the host app (only anonymousCode): no popup, SESSION_EXPIRED, one navigation, exchange never called', async () => {
    const exchangeCode = vi.fn(exchange)
    await t.setup({ exchange: exchangeCode })
    t.sim.state.loggedInToHost = false
    const results = await Promise.all(Array.from({ length: 3 }, (_, i) => t.settled(t.get(`/api/anon/${i}`))))
    for (const r of results)
      expect(r).toMatchObject({ ok: false, value: { code: 'SESSION_EXPIRED', errMsg: 'request:fail SESSION_EXPIRED' } })
    expect(t.sim.state.popups).toBe(0)
    expect(t.sim.state.logins).toEqual([{ force: false }])
    expect(exchangeCode).not.toHaveBeenCalled()
    expect(t.sim.navigations).toEqual([{ api: 'navigateTo', url: '/pages/login/index' }])
  })

  it('a network failure reaches the caller as tt gave it (errMsg and errNo), with no refresh', async () => {
    await t.loggedIn()
    const p = t.get('/api/slow?delay=500')
    setTimeout(() => p.abort(), 20)
    await expect(p).rejects.toMatchObject({ errMsg: 'request:fail abort' })
    const refused = await t.settled(t.get('http://127.0.0.1:1/nothing'))
    expect(refused).toMatchObject({ ok: false, value: { errMsg: expect.stringMatching(/^request:fail /), errNo: expect.any(Number) } })
    expect(t.server.stats().refreshes).toBe(0)
  })

  it('createTtRelay wraps without touching the global tt', async () => {
    await t.load()
    const own = t.sim.tt.request
    const made = createTtRelay({ baseURL: t.server.url, exchange, loginPage: '/pages/login/index' }, t.sim.tt)
    expect(t.sim.tt.request).toBe(own)
    await expect(made.request({ url: '/api/plain' })).resolves.toMatchObject({ statusCode: 200, data: { generation: 1 } })
  })
})
