/**
 * End to end: three tabs of one H5 app, in one Chromium context (one localStorage, BroadcastChannel, Web
 * Locks), against the reference server with refresh-token rotation, reuse detection and no grace window.
 * Run on both playgrounds' H5 builds (Taro, uni-app), each installed by its build plugin.
 *
 * With tokenrelay's `crossTab` (on by default on H5): the three tabs' expired calls, fired at once, cost one
 * refresh between them, and a logout in one tab reaches the others. With it off (the playgrounds read
 * `__TOKENRELAY_CROSS_TAB__ = false`, set here by an init script), the same run makes the server see a
 * retired refresh token again and revoke the family: the test of the test.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { startServer } from '../../playground-server/server.js'
import { REPO_ROOT, launchBrowser, openH5App, type H5App, type PwBrowser } from './h5-runtime'
import { expectedLines as taroLines, resultLines } from './taro-flow'
import { expectedLines as uniLines } from './uniapp-session'

type ReferenceServer = Awaited<ReturnType<typeof startServer>>
const HOME = '/pages/home/index'
const LOGIN = '/pages/login/index'

interface Target {
  name: string
  dir: string
  build: string
  /** The 12 lines of a run in which every call answered 200 with this generation. */
  lines(generation: number): string[]
  /** Logs the first tab in (the others then read the pair from storage when they open). */
  logIn(tab: Tab): Promise<void>
  /** The login page's "Log out", in this tab. */
  logOut(tab: Tab): Promise<void>
}

/** A tab and the number of "Run all" it has done (each page counts its own runs). */
interface Tab {
  app: H5App
  runs: number
}

async function runAll(tab: Tab): Promise<string[]> {
  tab.runs += 1
  await tab.app.tap('run-all')
  return resultLines(await tab.app.waitForText(`run ${tab.runs} results 12/12`))
}

const TARGETS: Target[] = [
  {
    name: 'Taro H5',
    dir: 'playground-taro/dist/h5',
    build: 'cd playground-taro && npm run build:h5',
    lines: (generation) => taroLines(200, String(generation)),
    // The first run logs in silently (the playground's login strategy).
    logIn: async (tab) => {
      expect(await runAll(tab)).toEqual(taroLines(200, '1'))
    },
    logOut: async (tab) => {
      await tab.app.tap('go-login')
      await tab.app.tap('logout')
      await tab.app.waitForText('session: logged out')
    },
  },
  {
    name: 'uni-app H5',
    dir: 'playground-uniapp/dist/build/h5',
    build: 'cd playground-uniapp && npm run build:h5',
    lines: (generation) => uniLines(generation),
    // H5 has no platform login code: the login page's button (POST /auth/login → setCredentials).
    // The user came to the login page by themselves: nothing to return to, so back by hand.
    logIn: async (tab) => {
      await tab.app.tap('go-login')
      await tab.app.tap('login')
      await tab.app.waitForText('session in idle')
      await tab.app.page.evaluate('history.back()')
      await tab.app.waitForText('run 0 results 0/0')
    },
    logOut: async (tab) => {
      await tab.app.tap('go-login')
      await tab.app.tap('logout')
      await tab.app.waitForText('logged out')
    },
  },
]

/** Hits on /api/* after `seq`. */
const apiHitsSince = (server: ReferenceServer, seq: number) =>
  server
    .stats()
    .requests.filter((h) => h.seq > seq && h.route.startsWith('/api/'))
    .map((h) => ({ route: h.route, status: h.status, generation: h.generation, reason: h.reason }))
const mark = (server: ReferenceServer) => server.stats().requests.reduce((m, h) => Math.max(m, h.seq), 0)

describe.each(TARGETS)('$name: three tabs, one session', (target) => {
  let browser: PwBrowser
  let server: ReferenceServer
  const opened: H5App[] = []

  /** Three tabs on the home page, logged in through the first, every access token then expired. */
  async function threeTabs(crossTab: boolean): Promise<Tab[]> {
    const dir = path.join(REPO_ROOT, target.dir)
    if (!fs.existsSync(path.join(dir, 'index.html'))) throw new Error(`${target.dir} is not built: run \`${target.build}\` first`)
    server.reset()
    server.control({ graceSeconds: 0 })
    const globals = crossTab ? {} : { __TOKENRELAY_CROSS_TAB__: false }
    const first = await openH5App({ browser, dir, apiBase: server.url, route: HOME, globals })
    opened.push(first)
    const tabs: Tab[] = [{ app: first, runs: 0 }]
    await target.logIn(tabs[0])
    for (let i = 0; i < 2; i++) tabs.push({ app: await first.openTab(HOME), runs: 0 })
    for (const tab of tabs) await tab.app.waitForText(`run ${tab.runs} results`)
    server.control({ expireAllNow: true })
    return tabs
  }

  beforeAll(async () => {
    browser = await launchBrowser()
    server = await startServer()
  })
  afterAll(async () => {
    for (const app of opened) await app.close()
    await browser?.close()
    await server?.close()
  })

  test('12 expired calls in each of 3 tabs at once: 1 refresh, 0 reuse, 36/36 with one new pair; a logout in one tab reaches the others', async () => {
    const tabs = await threeTabs(true)
    const before = server.stats()
    const since = mark(server)
    const runs = await Promise.all(tabs.map(runAll))
    for (const lines of runs) expect(lines).toEqual(target.lines(2))
    const after = server.stats()
    expect(after.refreshAttempts - before.refreshAttempts).toBe(1)
    expect(after.refreshes - before.refreshes).toBe(1)
    expect(after.reuseDetections).toBe(0)
    expect(after.familiesRevoked).toBe(0)
    expect(apiHitsSince(server, since).filter((h) => h.status === 200)).toHaveLength(36)
    // More than one tab met the expiry (usually all 36 calls were refused once): several tabs needed the refresh.
    expect(apiHitsSince(server, since).filter((h) => h.status === 401).length).toBeGreaterThan(12)

    // Every tab holds the same new pair: a run in each goes out with generation 2, no 401, no refresh.
    const again = mark(server)
    for (const lines of await Promise.all(tabs.map(runAll))) expect(lines).toEqual(target.lines(2))
    const hits = apiHitsSince(server, again)
    expect(hits).toHaveLength(36)
    expect(hits.every((h) => h.status === 200 && h.generation === 2)).toBe(true)
    expect(server.stats().refreshAttempts).toBe(after.refreshAttempts)

    // A logout in the first tab: the others' next calls carry no token, and nobody refreshes or logs in.
    await target.logOut(tabs[0])
    const loggedOut = mark(server)
    const { refreshAttempts, logins } = server.stats()
    await Promise.all(tabs.slice(1).map(runAll))
    const after2 = apiHitsSince(server, loggedOut)
    expect(after2).toHaveLength(24)
    expect(after2.every((h) => h.status === 401 && h.reason === 'missing bearer token')).toBe(true)
    expect(server.stats()).toMatchObject({ refreshAttempts, logins })
    for (const tab of tabs) expect(tab.app.pageErrors).toEqual([])
  })

  test('a session end in one tab ends it in all; only the tab the user looks at opens the login page, a hidden one when shown', async () => {
    const tabs = await threeTabs(true)
    // Tabs 2 and 3 are in the background (headless Chromium calls every page visible: the test says otherwise).
    for (const tab of tabs.slice(1)) {
      await tab.app.page.evaluate(`(() => {
        window.__hidden = true
        Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (window.__hidden ? 'hidden' : 'visible') })
      })()`)
    }
    const route = (tab: Tab) => tab.app.page.evaluate<string>('location.hash.split("?")[0]')
    server.control({ revokeUser: 'alice' })
    const { refreshAttempts } = server.stats()
    tabs[0].runs += 1
    await tabs[0].app.tap('run-all')
    await expect.poll(() => route(tabs[0]), { timeout: 10_000 }).toBe(`#${LOGIN}`)
    await new Promise((r) => setTimeout(r, 500)) // the other tabs heard of it by now
    expect(await route(tabs[1])).toBe(`#${HOME}`)
    expect(await route(tabs[2])).toBe(`#${HOME}`)
    expect(server.stats().refreshAttempts).toBe(refreshAttempts + 1) // tab 1's, refused; the others never tried
    // The user switches to tab 2: its login page opens now, once; tab 3 is still in the background.
    await tabs[1].app.page.evaluate(`(() => { window.__hidden = false; document.dispatchEvent(new Event('visibilitychange')) })()`)
    await expect.poll(() => route(tabs[1]), { timeout: 10_000 }).toBe(`#${LOGIN}`)
    expect(await route(tabs[2])).toBe(`#${HOME}`)
    expect(server.stats().refreshAttempts).toBe(refreshAttempts + 1)
    for (const tab of tabs) expect(tab.app.pageErrors).toEqual([])
  })

  test('test of the test: the same run with crossTab off refreshes in several tabs, and the server sees the reuse', async () => {
    const tabs = await threeTabs(false)
    const before = server.stats()
    await Promise.all(
      tabs.map(async (tab) => {
        tab.runs += 1
        await tab.app.tap('run-all')
      }),
    )
    await expect.poll(() => server.stats().reuseDetections, { timeout: 15_000 }).toBeGreaterThan(0)
    expect(server.stats().refreshAttempts - before.refreshAttempts).toBeGreaterThan(1)
    expect(server.stats().familiesRevoked).toBeGreaterThan(0)
  })
})
