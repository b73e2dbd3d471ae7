/**
 * Runs a BUILT H5 output (Taro `dist/h5`, uni-app `dist/build/h5`) in headless Chromium through
 * playwright-core.
 *
 *   const browser = await launchBrowser()                 // once per file: Chromium is heavy
 *   const app = await openH5App({ browser, dir, apiBase, route: '/pages/home/index' })
 *   await app.tap('run-all')                              // click the element with id="run-all"
 *   await app.waitForText(/results 12\/12/)
 *   await app.texts()                                     // the page's visible text, one entry per line
 *   await app.screenshot('taro-h5-home')                  // → test-artifacts/taro-h5-home.png
 *   app.pageErrors, app.consoleErrors, app.network        // what went wrong / what was fetched
 *   await app.close(); await browser.close()
 *
 * - The output is served by a static server on 127.0.0.1 (ephemeral port, index.html for unknown paths
 *   so history routing works too). `proxyApi: true` also forwards /api, /auth and /__* to `apiBase`
 *   and points the app at its own origin (same origin: no CORS involved).
 * - The API base reaches the app through `window.__TOKENRELAY_API__`, set by an init script before
 *   any app code runs (the playgrounds read it before their build-time constant).
 * - Chromium: the system's (`/usr/bin/chromium` and the like, or $CHROMIUM_PATH) when one launches, else the
 *   headless build of the devDependency @sparticuz/chromium (scripts/chromium.mjs decides). Never run
 *   `npx playwright install`: it downloads browsers, which this machine cannot.
 * - playwright-core is loaded at run time from the repo root, else from a playground's node_modules,
 *   so this module type-checks without it; its types are the small subset below.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { findChromium } from '../../scripts/chromium.mjs'
import { startStaticServer, type StaticServer } from '../../scripts/static-server.mjs'

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const ARTIFACTS_DIR = path.join(REPO_ROOT, 'test-artifacts')

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
]

// ─── the subset of playwright-core used here ────────────────────────────────────────────
export interface PwLocator {
  click(options?: { timeout?: number }): Promise<void>
  innerText(options?: { timeout?: number }): Promise<string>
  waitFor(options?: { state?: 'attached' | 'visible'; timeout?: number }): Promise<void>
  count(): Promise<number>
  first(): PwLocator
}
export interface PwConsoleMessage {
  type(): string
  text(): string
}
export interface PwRequest {
  url(): string
  method(): string
  headers(): Record<string, string>
}
export interface PwResponse {
  url(): string
  status(): number
  request(): PwRequest
}
export interface PwPage {
  goto(url: string, options?: { waitUntil?: 'load' | 'domcontentloaded' | 'networkidle'; timeout?: number }): Promise<unknown>
  locator(selector: string): PwLocator
  screenshot(options: { path: string; fullPage?: boolean }): Promise<Buffer>
  evaluate<R>(expression: string): Promise<R>
  on(event: 'console', cb: (m: PwConsoleMessage) => void): void
  on(event: 'pageerror', cb: (e: Error) => void): void
  on(event: 'response', cb: (r: PwResponse) => void): void
  on(event: 'requestfailed', cb: (r: PwRequest & { failure(): { errorText: string } | null }) => void): void
  close(): Promise<void>
}
export interface PwContext {
  newPage(): Promise<PwPage>
  addInitScript(script: { content: string }): Promise<void>
  close(): Promise<void>
}
export interface PwBrowser {
  newContext(options?: { viewport?: { width: number; height: number }; serviceWorkers?: 'block' | 'allow' }): Promise<PwContext>
  version(): string
  close(): Promise<void>
}
interface PlaywrightCore {
  chromium: { launch(options: { executablePath: string; headless: boolean; args: string[]; timeout?: number }): Promise<PwBrowser> }
}

function loadPlaywright(): PlaywrightCore {
  const bases = [REPO_ROOT, path.join(REPO_ROOT, 'playground-uniapp'), path.join(REPO_ROOT, 'playground-taro')]
  for (const base of bases) {
    try {
      return createRequire(path.join(base, 'package.json'))('playwright-core') as PlaywrightCore
    } catch {
      // try the next place
    }
  }
  throw new Error(
    'playwright-core is not installed: add it as a devDependency at the repo root (npm i -D playwright-core). ' +
      'Do NOT run `npx playwright install`; the harness finds a Chromium itself (scripts/chromium.mjs).',
  )
}

/** Launches Chromium headless with the flags this machine needs (fresh temporary profile): see findChromium(). */
export async function launchBrowser(): Promise<PwBrowser> {
  const { executablePath, args } = await findChromium()
  const { chromium } = loadPlaywright()
  return chromium.launch({ executablePath, headless: true, args: [...CHROMIUM_ARGS, ...args], timeout: 60_000 })
}

// ─── static server ──────────────────────────────────────────────────────────────────────
// scripts/static-server.mjs: the same server `npm run playground` runs for a person.
export { startStaticServer, type StaticServer } from '../../scripts/static-server.mjs'

// ─── app handle ─────────────────────────────────────────────────────────────────────────
export interface OpenH5Options {
  browser: PwBrowser
  /** Built H5 directory (contains index.html). */
  dir: string
  /** API base URL given to the app as window.__TOKENRELAY_API__. */
  apiBase?: string
  /** Forward /api, /auth, /__* from the static server to apiBase and give the app its own origin. */
  proxyApi?: boolean
  /** Page route (hash router), e.g. '/pages/home/index'. Default: the app's start page. */
  route?: string
  /** Query for the route. */
  query?: Record<string, string>
  /** Router mode of the build. Default 'hash' (both playgrounds). */
  routerMode?: 'hash' | 'browser'
  viewport?: { width: number; height: number }
  /** More globals for the app, set by the init script before its code runs (e.g. `__TOKENRELAY_CROSS_TAB__`). */
  globals?: Record<string, unknown>
}

export interface H5NetworkRecord {
  method: string
  url: string
  status: number | null
  /** Request headers as the browser reported them. */
  headers: Record<string, string>
  failure?: string
}

export interface H5App {
  url: string
  page: PwPage
  server: StaticServer
  /** Click the element with this id (waits for it like a user would). */
  tap(id: string, timeoutMs?: number): Promise<void>
  /** Visible text of the page, split into trimmed non-empty lines. */
  texts(): Promise<string[]>
  waitForText(pattern: RegExp | string, timeoutMs?: number): Promise<string[]>
  /** Navigates within the app (route as in app.json, e.g. '/pages/login/index'). */
  goto(route: string, query?: Record<string, string>): Promise<void>
  /** Saves a PNG under test-artifacts/ and returns its path. */
  screenshot(name: string): Promise<string>
  readonly pageErrors: Error[]
  readonly consoleErrors: string[]
  readonly consoleMessages: string[]
  /** Every response and failed request seen by the page (static files included). */
  readonly network: H5NetworkRecord[]
  /** Another tab of the same app: same browser context (one localStorage, BroadcastChannel, Web Locks). */
  openTab(route?: string, query?: Record<string, string>): Promise<H5App>
  /** Closes this tab; the first tab's close() also closes the context and the static server. */
  close(): Promise<void>
}

export async function openH5App(options: OpenH5Options): Promise<H5App> {
  const server = await startStaticServer(options.dir, { proxyTo: options.proxyApi ? options.apiBase : undefined })
  const context = await options.browser.newContext({ viewport: options.viewport || { width: 390, height: 844 }, serviceWorkers: 'block' })
  const apiForApp = options.proxyApi ? server.url : options.apiBase
  const globals = { ...(apiForApp ? { __TOKENRELAY_API__: apiForApp } : {}), ...options.globals }
  const init = Object.entries(globals).map(([name, value]) => `window.${name} = ${JSON.stringify(value)};`)
  if (init.length) await context.addInitScript({ content: init.join('\n') })
  const routeUrl = (route?: string, query?: Record<string, string>) => {
    const qs = query && Object.keys(query).length ? `?${new URLSearchParams(query).toString()}` : ''
    if (!route) return `${server.url}/`
    const r = route.startsWith('/') ? route : `/${route}`
    return options.routerMode === 'browser' ? `${server.url}${r}${qs}` : `${server.url}/#${r}${qs}`
  }
  const closeAll = async () => {
    await context.close().catch(() => {})
    await server.close()
  }
  const first = await tab(await context.newPage(), closeAll)
  try {
    await first.page.goto(routeUrl(options.route, options.query), { waitUntil: 'load', timeout: 30_000 })
  } catch (err) {
    await closeAll()
    throw err
  }
  return first

  async function tab(page: PwPage, close: () => Promise<void>): Promise<H5App> {
    const pageErrors: Error[] = []
    const consoleErrors: string[] = []
    const consoleMessages: string[] = []
    const network: H5NetworkRecord[] = []
    page.on('pageerror', (e) => pageErrors.push(e))
    page.on('console', (m) => {
      const line = `${m.type()}: ${m.text()}`
      consoleMessages.push(line)
      if (m.type() === 'error') consoleErrors.push(m.text())
      if (process.env.TOKENRELAY_E2E_VERBOSE === '1') console.log('[h5]', line)
    })
    page.on('response', (r) =>
      network.push({ method: r.request().method(), url: r.url(), status: r.status(), headers: r.request().headers() }),
    )
    page.on('requestfailed', (r) =>
      network.push({ method: r.method(), url: r.url(), status: null, headers: r.headers(), failure: r.failure()?.errorText }),
    )

    const texts = async () => {
      const text = await page.locator('body').innerText()
      return text
        .split('\n')
        .map((s) => s.trim())
        .filter(Boolean)
    }

    const app: H5App = {
      url: server.url,
      page,
      server,
      tap: async (id, timeoutMs = 10_000) => {
        await page
          .locator(`#${cssEscape(id)}`)
          .first()
          .click({ timeout: timeoutMs })
      },
      texts,
      waitForText: async (pattern, timeoutMs = 15_000) => {
        const test = (s: string) => (typeof pattern === 'string' ? s.includes(pattern) : pattern.test(s))
        const deadline = Date.now() + timeoutMs
        let last: string[] = []
        for (;;) {
          last = await texts()
          if (last.some(test)) return last
          if (Date.now() > deadline) {
            throw new Error(
              `waitForText(${pattern}) timed out after ${timeoutMs} ms; page shows: ${JSON.stringify(last.slice(0, 30))}` +
                (pageErrors.length ? `; page errors: ${pageErrors.map((e) => e.message).join(' | ')}` : ''),
            )
          }
          await new Promise((r) => setTimeout(r, 50))
        }
      },
      goto: async (route, query) => {
        await page.goto(routeUrl(route, query), { waitUntil: 'load' })
      },
      screenshot: async (name) => {
        fs.mkdirSync(ARTIFACTS_DIR, { recursive: true })
        const file = path.join(ARTIFACTS_DIR, `${name.replace(/[^\w.-]+/g, '_')}.png`)
        await page.screenshot({ path: file, fullPage: true })
        return file
      },
      pageErrors,
      consoleErrors,
      consoleMessages,
      network,
      openTab: async (route, query) => {
        const other = await tab(await context.newPage(), async () => {
          await other.page.close()
        })
        await other.page.goto(routeUrl(route, query), { waitUntil: 'load', timeout: 30_000 })
        return other
      },
      close,
    }
    return app
  }
}

function cssEscape(id: string): string {
  return id.replace(/[^\w-]/g, (c) => `\\${c}`)
}
