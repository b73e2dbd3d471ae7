// tokenrelay/my on a simulated Alipay `my` (non-2xx on `fail` with `error: 19`, `status`/`headers`,
// object-style storage, getAuthCode) doing real HTTP to the reference server. The scenarios every
// callback-style adapter shares are in test/helpers/adapter-suite.ts; Alipay's own are below.
import { describe, expect, it, vi } from 'vitest'
import { sharedAdapterTests, useAdapter } from '../../test/helpers/adapter-suite.js'
import { createMy, tempFile } from '../../test/helpers/mini-platform.js'
import { exchangeAuthCode } from '../../test/helpers/reference.js'
import { install } from './index.js'

const t = useAdapter({
  name: 'my',
  family: 'alipay',
  app: 'my',
  install,
  load: ({ pages }) => {
    const sim = createMy({ pages })
    vi.stubGlobal('my', sim.my)
    vi.stubGlobal('getCurrentPages', sim.getCurrentPages)
    return { ...sim, api: sim.my }
  },
  exchange: exchangeAuthCode,
  patches: true,
  upload: { fileName: 'file', fileType: 'image' },
  tabBarLogin: () => ({ tabBar: ['pages/login/index'] }),
})

describe('tokenrelay/my', () => {
  sharedAdapterTests(t)

  it('401s on the fail path (error 19) are replayed, and every answer is normalised both ways: status/headers and statusCode/header', async () => {
    await t.loggedIn()
    t.server.control({ expireAllNow: true })
    const seen: string[] = []
    const results = await Promise.all([
      ...Array.from({ length: 3 }, (_, i) => t.get(`/api/item/${i}`)),
      t.app.uploadFile(t.upload({ filePath: tempFile('alipay!') })),
      new Promise((complete) =>
        t.app.request({ url: '/api/cb', success: (r: any) => seen.push(`success ${r.status}`), fail: () => seen.push('fail'), complete }),
      ),
    ])
    for (let i = 0; i < 3; i++) {
      expect(t.hits(`/api/item/${i}`)).toEqual([
        [401, 1],
        [200, 2],
      ])
      expect(results[i]).toMatchObject({ status: 200, statusCode: 200, data: { generation: 2 } })
      expect(results[i].header).toBe(results[i].headers)
    }
    expect(JSON.parse(results[3].data)).toMatchObject({ generation: 2, file: { size: 7 } })
    // Both attempts of the upload kept Alipay's fileType.
    expect(t.sim.state.uploads.map((u) => u.fileType)).toEqual(['image', 'image'])
    await t.settle()
    expect(seen).toEqual(['success 200'])
    expect(t.server.stats().refreshes).toBe(1)
  })

  it('sends the token in `headers` as strings, whichever spelling the caller used', async () => {
    await t.loggedIn()
    const res = await t.get('/api/h', { headers: { 'X-Num': 42 as unknown as string } })
    expect(res.statusCode).toBe(200)
    expect(t.server.stats().hits['/api/h'][0].generation).toBe(1)
  })

  it('error 14 (JSON decode failure on a 2xx) is not an expiry and starts no refresh', async () => {
    await t.loggedIn()
    await expect(t.get(`/api/download/x.bin`)).rejects.toMatchObject({ error: 14 })
    expect(t.server.stats().refreshes).toBe(0)
  })

  it('a corrupt stored value (legacy APDataStorage object) means logged out, no throw', async () => {
    const sim = await t.load()
    sim.storage.set('tokenrelay', { APDataStorage: 'legacy' })
    const relay = t.install()
    await relay.ready
    expect(relay.getCredentials()).toBeNull()
  })
})
