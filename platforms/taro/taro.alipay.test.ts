// tokenrelay/taro on the REAL Taro 4 Alipay runtime (simulated `my`: non-2xx on `fail` with
// `error: 19`, `status`/`headers`, object-style storage, getAuthCode), real HTTP to the reference server.
import { describe, expect, it, vi } from 'vitest'
import { sharedTaroTests, useTaro } from '../../test/helpers/taro-suite.js'

const t = useTaro('alipay')

describe('tokenrelay/taro (alipay runtime)', () => {
  sharedTaroTests(t)

  it('without the adapter Taro on Alipay REJECTS a 401 (with status, no statusCode)', async () => {
    const res = await t.settled(t.get(`${t.server.url}/api/bare`))
    expect(res).toMatchObject({ ok: false, value: { error: 19, status: 401, data: { error: 'invalid_token' } } })
    expect(res.value.statusCode).toBeUndefined()
  })

  it('a 401 on the reject path is an expiry: refreshed once, replayed, resolved with the replay', async () => {
    await t.loggedIn()
    t.server.control({ expireAllNow: true })
    const fail = vi.fn()
    const res = await t.Taro.request({ url: '/api/reject-path', fail })
    expect(res).toMatchObject({ statusCode: 200, data: { generation: 2 } })
    expect(fail).not.toHaveBeenCalled()
    expect(t.server.stats().hits['/api/reject-path'].map((h) => h.status)).toEqual([401, 200])
    expect(t.server.stats().refreshes).toBe(1)
  })

  it('a refresh answered 400 invalid_grant on the reject path ends the session (no loop)', async () => {
    await t.loggedIn({ exchange: undefined })
    t.server.control({ revokeUser: 'alice', expireAllNow: true })
    await expect(t.get('/api/x')).rejects.toMatchObject({ code: 'SESSION_EXPIRED' })
    expect(t.server.stats()).toMatchObject({ refreshAttempts: 1, refreshFailures: 1 })
  })

  it('a JSON decode failure on a 2xx (error 14) is no expiry and reaches the caller rejected, as Alipay reports it', async () => {
    await t.loggedIn()
    const fail = vi.fn()
    const res = await t.settled(t.Taro.request({ url: '/api/download/not-json.bin', fail }))
    expect(res).toMatchObject({ ok: false, value: { error: 14, status: 200 } })
    expect(fail).toHaveBeenCalledWith(res.value)
    expect(t.server.stats().refreshes).toBe(0)
    expect(t.server.stats().hits['/api/download/not-json.bin']).toHaveLength(1)
  })

  it('Taro maps uploadFile name → fileName and login → getAuthCode; the wrappers keep that', async () => {
    t.setup() // no credentials: the first request logs in silently through Taro.login → my.getAuthCode
    const res = await t.upload({ filePath: (await import('../../test/helpers/mini-platform.js')).tempFile('zz') })
    expect(JSON.parse(res.data)).toMatchObject({ generation: 1, file: { field: 'file', size: 2 } })
    expect(t.sim.state.uploads[0]).toMatchObject({ fileName: 'file', fileType: 'image' })
    expect(t.server.stats().logins).toBe(1)
  })
})
