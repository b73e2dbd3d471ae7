// luch-request (the uni-app request library: `new Request({ baseURL })`, axios-like interceptors) on top of
// tokenrelay/uniapp, as a uni-app app uses the two together: install() once, then luch-request for every call.
// luch-request calls uni.request / uni.uploadFile / uni.downloadFile with a `complete` callback only and
// settles its own promise there (statusCode 2xx resolves, anything else rejects with what `complete` got),
// so what reaches it is what tokenrelay's interceptor hands the callbacks. Same runtime as uniapp.test.ts:
// uni's real API runtime over simulated `wx` / `my` / `tt`, real HTTP to the reference server, counted there.
//
// luch-request ships its source with uni-app conditional-compilation comments (#ifdef MP-WEIXIN…), which a
// uni build strips per platform; run here unprocessed, every platform's branch is kept. The options it adds
// that way (fileType, responseType, timeout…) are passed only when set, and uni ignores the ones its platform lacks.
import Request from 'luch-request'
import type { HttpError, HttpResponse } from 'luch-request'
import { describe, expect, it, vi } from 'vitest'
import { SessionExpiredError, isTokenRelayError } from '../../src/index.js'
import { useAdapter } from '../../test/helpers/adapter-suite.js'
import { tempFile } from '../../test/helpers/mini-platform.js'
import { exchange } from '../../test/helpers/reference.js'
import { loadUni } from '../../test/helpers/uni-runtime.js'
import type { UniPlatform } from '../../test/helpers/uni-runtime.js'
import { install } from './index.js'

// A uni build aliases 'vue' to its mini program runtime; the API runtime imports injectHook from it.
// @ts-expect-error @dcloudio/uni-mp-vue ships no types
vi.mock('vue', () => import('@dcloudio/uni-mp-vue'))

type Seen = { url: string; status?: number; generation?: number }

/**
 * A luch-request instance as an app sets one up: a baseURL, a header added per call, a response interceptor.
 * On Alipay a uni build strips luch-request's default `responseType` (#ifndef MP-ALIPAY): unset here the same way.
 */
function luch(baseURL: string, alipay: boolean) {
  const http = new Request(alipay ? { baseURL, responseType: undefined } : { baseURL })
  const sent: string[] = []
  const answers: Seen[] = []
  const errors: HttpError[] = []
  const tasks: unknown[] = []
  http.interceptors.request.use((config) => {
    sent.push(config.url!)
    config.header = { ...config.header, 'X-Trace': `luch ${config.url}` }
    config.getTask = (task) => void tasks.push(task)
    return config
  })
  http.interceptors.response.use(
    (res) => {
      answers.push({ url: res.config.url!, status: res.statusCode, generation: (res.data as { generation?: number })?.generation })
      return res
    },
    (error) => {
      errors.push(error)
      return Promise.reject(error)
    },
  )
  return { http, sent, answers, errors, tasks }
}

describe.each(['mp-weixin', 'mp-alipay', 'mp-toutiao'] as UniPlatform[])('luch-request 3 on tokenrelay/uniapp, %s', (platform) => {
  const alipay = platform === 'mp-alipay'
  const t = useAdapter({
    name: 'uniapp',
    family: alipay ? 'alipay' : 'weixin', // tt answers every HTTP status on success, as wx does
    app: 'uni',
    install,
    load: ({ pages }) => loadUni(platform, { pages }),
    exchange,
    patches: false,
    upload: { name: 'file', fileType: 'image' }, // fileType is Alipay's; wx and tt ignore it
    tabBarLogin: () => ({}),
  })
  const uni = () =>
    (globalThis as any).uni as { addInterceptor(api: string, h: object): void; removeInterceptor(api: string, h: object): void }

  /** 12 callers through every luch-request entry point: request (with params), get, post, upload, download. */
  const calls = (http: InstanceType<typeof Request>) => [
    http.request({ url: '/api/luch/request/0', method: 'GET', params: { page: 2 } }),
    http.request({ url: '/api/luch/request/1', method: 'POST', data: { via: 'request' } }),
    http.request({ url: '/api/luch/request/2' }),
    ...Array.from({ length: 4 }, (_, i) => http.get(`/api/luch/get/${i}`, { params: { i } })),
    ...Array.from({ length: 3 }, (_, i) => http.post(`/api/luch/post/${i}`, { n: i, note: 'posted' })),
    http.upload('/api/upload', { filePath: tempFile('the file body'), name: 'file', fileType: 'image', formData: { note: 'hi' } }),
    http.download(`${t.server.url}/api/download/report.bin`),
  ]
  const routes = [
    '/api/luch/request/0',
    '/api/luch/request/1',
    '/api/luch/request/2',
    ...Array.from({ length: 4 }, (_, i) => `/api/luch/get/${i}`),
    ...Array.from({ length: 3 }, (_, i) => `/api/luch/post/${i}`),
    '/api/upload',
    '/api/download/report.bin',
  ]

  it('12 concurrent calls meet an expired token: 1 refresh at the server, every promise resolves with the replayed answer, the response interceptor runs once per caller', async () => {
    await t.loggedIn()
    // What goes out, as uni's own later interceptors see it: tokenrelay's replays pass through uni too.
    const out: { url: string; trace?: string; token?: string }[] = []
    const spy = {
      invoke: (a: { url: string; header?: Record<string, string> }) =>
        void out.push({ url: a.url, trace: a.header?.['X-Trace'], token: a.header?.Authorization }),
    }
    uni().addInterceptor('request', spy)
    try {
      t.server.control({ expireAllNow: true })
      const { http, sent, answers, errors, tasks } = luch(t.server.url, alipay)
      const results: HttpResponse[] = await Promise.all(calls(http))

      const stats = t.server.stats()
      expect(stats.refreshAttempts).toBe(1)
      expect(stats.refreshes).toBe(1)
      expect(stats.logins).toBe(1) // the test's own direct login
      // Each call went out twice at the server, expired then replayed with the new token generation.
      for (const route of routes) {
        expect(t.hits(route), route).toEqual([
          [401, 1],
          [200, 2],
        ])
      }
      // Every luch-request promise resolves with the replayed answer, as luch-request's response.
      for (const res of results) expect(res).toMatchObject({ statusCode: 200, config: { baseURL: t.server.url } })
      for (const res of results.slice(0, 10)) expect(res.data).toMatchObject({ generation: 2, user: 'alice' })
      expect(results[0].data).toMatchObject({ path: '/api/luch/request/0', method: 'GET', query: { page: '2' } })
      expect(results[1].data).toMatchObject({ method: 'POST', body: { via: 'request' } })
      for (let i = 0; i < 3; i++) expect(results[7 + i].data).toMatchObject({ method: 'POST', body: { n: i, note: 'posted' } })
      // luch-request parses the upload's string body itself (forcedJSONParsing): the replayed upload's answer.
      expect(results[10].data).toMatchObject({ generation: 2, fields: { note: 'hi' }, file: { size: 13 } })
      expect(results[11]).toMatchObject({ statusCode: 200, tempFilePath: expect.any(String) })

      // luch-request's own chain: its request interceptor once per call, its response interceptor once per
      // caller, with the final answer only (the 401s never reached it), and the same object the caller got.
      expect(sent).toHaveLength(12)
      expect(errors).toEqual([])
      expect(answers).toHaveLength(12)
      // In the order the replays' answers arrived, which the network decides: compared as sets.
      const download = `${t.server.url}${routes[11]}`
      expect(answers.map((a) => a.url).sort()).toEqual(routes.map((r, i) => (i === 11 ? download : r)).sort())
      for (const a of answers.filter((a) => a.url !== download)) expect(a).toMatchObject({ status: 200, generation: 2 })
      expect(answers.find((a) => a.url === download)).toMatchObject({ status: 200 })
      // getTask handed luch-request a task it can abort, for every call.
      expect(tasks).toHaveLength(12)
      for (const task of tasks) expect(typeof (task as { abort?: unknown }).abort).toBe('function')

      // The replay sent what luch-request built (its header, its body), with the new token instead of the old.
      const requests = out.filter((o) => o.url.includes('/api/luch/'))
      expect(requests).toHaveLength(20)
      for (const route of routes.slice(0, 10)) {
        const attempts = requests.filter((o) => o.url.split('?')[0] === `${t.server.url}${route}`)
        expect(attempts.map((a) => a.trace)).toEqual([`luch ${route}`, `luch ${route}`])
        expect(attempts[0].token).toMatch(/^Bearer /)
        expect(attempts[1].token).toMatch(/^Bearer /)
        expect(attempts[1].token).not.toBe(attempts[0].token)
      }
    } finally {
      uni().removeInterceptor('request', spy)
    }
  })

  it('a revoked session: every luch-request promise rejects with tokenrelay’s SESSION_EXPIRED (as luch-request’s error), one navigation to the login page', async () => {
    await t.loggedIn({ exchange: undefined }) // no silent login to rescue the session
    t.server.control({ revokeUser: 'alice', expireAllNow: true })
    const { http, answers, errors } = luch(t.server.url, alipay)
    const settled = await Promise.allSettled(calls(http))

    expect(settled.map((s) => s.status)).toEqual(Array(12).fill('rejected'))
    const reasons = settled.map((s) => (s as PromiseRejectedResult).reason)
    // The shape: what tokenrelay hands a callback caller's `complete` (a TokenRelayError with the platform's
    // errMsg, no statusCode), which luch-request rejects with after adding its own `config`.
    reasons.forEach((reason, i) => {
      const api = i === 10 ? 'uploadFile' : i === 11 ? 'downloadFile' : 'request'
      expect(isTokenRelayError(reason, 'SESSION_EXPIRED')).toBe(true)
      expect(reason).toBeInstanceOf(SessionExpiredError)
      expect(reason).toMatchObject({ name: 'SessionExpiredError', code: 'SESSION_EXPIRED', errMsg: `${api}:fail SESSION_EXPIRED` })
      expect(reason.statusCode).toBeUndefined()
      expect(reason.config).toMatchObject({ baseURL: t.server.url, url: i === 11 ? `${t.server.url}${routes[i]}` : routes[i] })
    })
    // luch-request's response interceptor: its error side once per caller, with that same object; never the success side.
    expect(answers).toEqual([])
    expect(errors).toHaveLength(12)
    for (const reason of reasons) expect(errors.filter((e) => e === reason)).toHaveLength(1)

    expect(t.sim.navigations).toEqual([{ api: 'navigateTo', url: '/pages/login/index' }])
    expect(t.server.stats()).toMatchObject({ refreshAttempts: 1, refreshes: 0, refreshFailures: 1, logins: 1 })
    for (const route of routes) expect(t.hits(route), route).toEqual([[401, 1]])
  })

  it('cold start: luch-request calls wait for the one silent login and go out once, with its token; getTask gets tokenrelay’s task', async () => {
    await t.setup()
    const { http, answers, tasks } = luch(t.server.url, alipay)
    const results: HttpResponse[] = await Promise.all(calls(http))
    expect(t.server.stats()).toMatchObject({ logins: 1, refreshAttempts: 0 })
    for (const route of routes) expect(t.hits(route), route).toEqual([[200, 1]])
    for (const res of results.slice(0, 11)) expect(res).toMatchObject({ statusCode: 200, data: { generation: 1 } })
    expect(answers).toHaveLength(12)
    for (const task of tasks) expect(typeof (task as { abort?: unknown }).abort).toBe('function')
  })

  it('without tokenrelay, luch-request rejects the expired token’s 401 itself: the control for the tests above', async () => {
    await t.loggedIn()
    t.relay.uninstall()
    t.server.control({ expireAllNow: true })
    const { http, errors } = luch(t.server.url, alipay)
    await expect(http.get('/api/luch/bare')).rejects.toMatchObject({ statusCode: 401, config: { url: '/api/luch/bare' } })
    expect(errors).toHaveLength(1)
    expect(t.server.stats().refreshAttempts).toBe(0)
  })
})
