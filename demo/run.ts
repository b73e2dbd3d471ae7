// The scripted session behind `npm run demo`: the reference server on an ephemeral port, a simulated
// `wx` whose network calls are real HTTP, and tokenrelay/wx installed over it. Each scene's counts
// come from the server's own stats, not from the client.
import { writeFileSync } from 'node:fs'
import { startServer } from '../playground-server/server.js'
import type { Credentials, RefreshContext, RelayRequest, TokenRelay, Transport } from '../src/index.js'
import { createTokenRelay } from '../src/index.js'
import { install } from '../platforms/wx/index.js'
import { memoryTabs } from '../test/helpers/memory-tabs.js'
import { createWx, tempFile } from '../test/helpers/mini-platform.js'
import { loginDirect } from '../test/helpers/reference.js'
import type { Attempt, Band, Lane } from './timeline.js'
import { renderTimeline } from './timeline.js'

export interface DemoResult {
  scenes: { name: string; refreshes: number; logins: number; hits: number; fulfilled: number; rejected: number; navigations: number }[]
  lanes: Lane[]
  bands: Band[]
  html: string
  text: string
}

type Res = { statusCode: number; data?: any }

export async function runDemo(options: { out?: string; print?: (line: string) => void } = {}): Promise<DemoResult> {
  const print = options.print || (() => {})
  const server = await startServer({ port: 0 })
  const sim = createWx({ pages: ['pages/home/index', 'pages/orders/index'] })
  const g = globalThis as Record<string, unknown>
  const saved = { wx: g.wx, getCurrentPages: g.getCurrentPages }
  g.wx = sim.wx
  g.getCurrentPages = sim.getCurrentPages
  const t0 = Date.now()
  const now = () => Date.now() - t0
  const lines: string[] = []
  const say = (line: string) => (lines.push(line), print(line))

  // Record every platform attempt (before tokenrelay wraps the platform), per URL path.
  const attempts = new Map<string, Attempt[]>()
  for (const name of ['request', 'uploadFile', 'downloadFile'] as const) {
    const original = sim.wx[name]
    sim.wx[name] = (o: Record<string, any>) => {
      const path = new URL(o.url).pathname
      const a: Attempt = { start: now(), end: now(), status: 0, generation: null }
      ;(attempts.get(path) || attempts.set(path, []).get(path)!).push(a)
      const done = (r: { statusCode?: number }) => ((a.end = now()), (a.status = r.statusCode || 0))
      return original({ ...o, success: (r: any) => (done(r), o.success(r)), fail: (e: any) => (done({}), o.fail(e)) })
    }
  }

  const bands: Band[] = []
  const lanes: Lane[] = []
  const scenes: DemoResult['scenes'] = []
  let open: Band | undefined
  const relay = install({
    baseURL: server.url,
    loginPage: '/pages/login/index',
    refresh: async ({ refreshToken, request }: RefreshContext) =>
      (await request({ url: '/auth/refresh', method: 'POST', data: { refreshToken } })).data as Credentials,
    logger: { log() {}, warn() {} },
  })
  relay.on('refresh:start', ({ strategy }) => bands.push((open = { label: strategy, start: now(), end: now(), kind: 'refresh' })))
  relay.on('refresh:success', () => open && (open.end = now()))
  relay.on('refresh:failure', ({ error }) => open && ((open.end = now()), (open.label += ` → ${error.code}`)))
  relay.on('session-expired', () => bands.push({ label: 'navigateTo login', start: now(), end: now() + 1, kind: 'navigation' }))

  const wx = sim.wx as unknown as Record<string, (o: object) => Promise<Res>>
  async function scene(name: string, calls: [label: string, path: string, call: () => Promise<Res>][]) {
    const before = server.stats()
    const navBefore = sim.navigations.length
    const started = calls.map(([label, path, call]) => {
      const lane: Lane = { label, scene: name, start: now(), end: 0, attempts: [], outcome: '' }
      lanes.push(lane)
      return call().then(
        (r) => ((lane.end = now()), (lane.outcome = `${r.statusCode}`), { path, lane, ok: true }),
        (e) => ((lane.end = now()), (lane.outcome = e.code || e.errMsg), { path, lane, ok: false }),
      )
    })
    const settled = await Promise.all(started)
    const after = server.stats()
    for (const { path, lane } of settled) {
      const hits = (after.hits[path] || []).slice((before.hits[path] || []).length)
      lane.attempts = (attempts.get(path) || []).slice(-hits.length || undefined)
      lane.attempts.forEach((a, i) => (a.generation = hits[i] ? hits[i].generation : null))
    }
    const s = {
      name,
      refreshes: after.refreshes - before.refreshes,
      logins: after.logins - before.logins,
      hits: after.requests.length - before.requests.length,
      fulfilled: settled.filter((x) => x.ok).length,
      rejected: settled.filter((x) => !x.ok).length,
      navigations: sim.navigations.length - navBefore,
    }
    scenes.push(s)
    const gens = [...new Set(settled.flatMap((x) => x.lane.attempts.map((a) => `${a.status}@gen${a.generation ?? '-'}`)))].join(', ')
    say(`\n${scenes.length}. ${name}`)
    say(
      `   server: ${s.hits} hits (${gens}), ${s.refreshes} refresh, ${s.logins} login   callers: ${s.fulfilled} fulfilled, ${s.rejected} rejected   navigations: ${s.navigations}`,
    )
    return settled
  }

  try {
    say(`tokenrelay demo: reference server ${server.url}, simulated wx over real HTTP, tokenrelay/wx installed`)

    // 1. wx.login → code → the server's code2Session stand-in → credentials.
    await scene('Login with a wx.login code', [
      [
        'wx.login + POST /auth/login',
        '/auth/login',
        async () => {
          const { code } = await new Promise<{ code: string }>((success, fail) => sim.wx.login({ success, fail }))
          const res = await wx.request({ url: '/auth/login', method: 'POST', data: { code }, auth: false })
          await relay.setCredentials(res.data as Credentials)
          return res
        },
      ],
    ])

    // 2. The access token expires on the server; 22 callers meet it at once.
    server.control({ expireAllNow: true })
    const file = tempFile('a photo, say')
    await scene('Token expired: 20 requests + 1 upload + 1 download at once', [
      ...Array.from(
        { length: 20 },
        (_, i) =>
          [`request /api/item/${i}`, `/api/item/${i}`, () => wx.request({ url: `/api/item/${i}` })] as [string, string, () => Promise<Res>],
      ),
      ['uploadFile /api/upload', '/api/upload', () => wx.uploadFile({ url: `${server.url}/api/upload`, filePath: file, name: 'file' })],
      ['downloadFile report.pdf', '/api/download/report.pdf', () => wx.downloadFile({ url: `${server.url}/api/download/report.pdf` })],
    ])

    // 3. A slow request carries the old token; its 401 comes back after another request refreshed.
    server.control({ expireAllNow: true })
    await scene('Late 401: the answer for the old token arrives after the refresh', [
      ['slow request (old token)', '/api/slow', () => wx.request({ url: '/api/slow?delay=250' })],
      ['request that refreshes', '/api/fast', () => new Promise<Res>((r) => setTimeout(() => r(wx.request({ url: '/api/fast' })), 20))],
    ])

    // 4. The refresh family is revoked (reuse detected elsewhere, or the user was banned).
    server.control({ revokeUser: 'alice', expireAllNow: true })
    await scene('Refresh family revoked: the session is over', [
      ...Array.from(
        { length: 5 },
        (_, i) =>
          [`request /api/after/${i}`, `/api/after/${i}`, () => wx.request({ url: `/api/after/${i}` })] as [
            string,
            string,
            () => Promise<Res>,
          ],
      ),
    ])
    say(`   navigations: ${sim.navigations.map((n) => `${n.api}(${n.url})`).join(', ')} (return page remembered: /pages/orders/index)`)

    // 5. H5: two tabs of one app share storage; both meet the expired token at once. With `crossTab` they
    //    refresh once between them (the other tab adopts the stored pair), where each would present the
    //    same refresh token and the server would see reuse.
    const tabs = memoryTabs()
    tabs.storage.set('tokenrelay', JSON.stringify(await loginDirect(server.url, 'code-bob-tabs')))
    const fetchTransport: Transport = async (req: RelayRequest) => {
      const path = new URL(req.url).pathname
      const a: Attempt = { start: now(), end: now(), status: 0, generation: null }
      ;(attempts.get(path) || attempts.set(path, []).get(path)!).push(a)
      const body = req.data === undefined ? undefined : JSON.stringify(req.data)
      const res = await fetch(req.url, {
        method: req.method || 'GET',
        headers: { ...req.header, ...(body ? { 'content-type': 'application/json' } : {}) },
        body,
      })
      a.end = now()
      a.status = res.status
      return { statusCode: res.status, header: {}, data: await res.json().catch(() => null) }
    }
    const tabRelays: TokenRelay[] = ['A', 'B'].map((tab) => {
      const r = createTokenRelay({
        baseURL: server.url,
        storage: tabs.storage,
        crossTab: tabs.crossTab(),
        transport: fetchTransport,
        refresh: async ({ refreshToken, request }: RefreshContext) =>
          (await request({ url: '/auth/refresh', method: 'POST', data: { refreshToken } })).data as Credentials,
        logger: { log() {}, warn() {} },
      })
      r.on('refresh:start', () => bands.push((open = { label: `tab ${tab} refresh`, start: now(), end: now(), kind: 'refresh' })))
      r.on('refresh:success', () => open && (open.end = now()))
      return r
    })
    server.control({ expireAllNow: true })
    await scene(
      'H5, two tabs: 10 expired requests each, one refresh between them',
      tabRelays.flatMap((r, t) =>
        Array.from({ length: 10 }, (_, i) => {
          const path = `/api/tab${'AB'[t]}/${i}`
          return [`tab ${'AB'[t]} ${path}`, path, () => r.send({ url: path }, fetchTransport)] as [string, string, () => Promise<Res>]
        }),
      ),
    )
    say(`   reuse detections at the server: ${server.stats().reuseDetections} (each tab on its own would present the same refresh token)`)

    say(
      '\nscene                                                           refreshes  logins  server hits  fulfilled  rejected  navigations',
    )
    for (const s of scenes) {
      say(
        `${s.name.padEnd(64)}${String(s.refreshes).padStart(9)}${String(s.logins).padStart(8)}${String(s.hits).padStart(13)}${String(s.fulfilled).padStart(11)}${String(s.rejected).padStart(10)}${String(s.navigations).padStart(13)}`,
      )
    }
    const html = renderTimeline('tokenrelay demo: one refresh, every request replayed', lanes, bands, scenes)
    if (options.out) {
      writeFileSync(options.out, html)
      say(`\nwrote ${options.out}: open it in a browser for the swimlane picture`)
    }
    return { scenes, lanes, bands, html, text: lines.join('\n') }
  } finally {
    relay.uninstall()
    g.wx = saved.wx
    g.getCurrentPages = saved.getCurrentPages
    await server.close()
  }
}
