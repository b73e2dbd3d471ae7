// tokenrelay/tt on a simulated Douyin `tt` (wx's conventions, `errNo` on failures, tt.login with `force`,
// `code` and `anonymousCode`) doing real HTTP to the reference server. The scenarios every callback-style
// adapter shares are in test/helpers/adapter-suite.ts; Douyin's own are below.
import { describe, expect, it, vi } from 'vitest'
import { sharedAdapterTests, useAdapter } from '../../test/helpers/adapter-suite.js'
import { douyinLoginTests } from '../../test/helpers/douyin.js'
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
  douyinLoginTests(t)

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
