/**
 * Helpers for uniapp.e2e.ts: what the reference server saw during one run of the home page, what the page
 * rendered, and (H5) which navigations the app made.
 */
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { beforeEach } from 'vitest'
import type { startServer } from '../../playground-server/server.js'
import type { MiniProgram } from './miniprogram-runtime'
import { REPO_ROOT, type H5App } from './h5-runtime'

export type ReferenceServer = Awaited<ReturnType<typeof startServer>>

export const HOME = '/pages/home/index'
export const LOGIN = '/pages/login/index'

/** The 12 routes one press of "Run all" calls: 10 GETs, the upload, the download. */
export const RUN_ROUTES = [...Array.from({ length: 10 }, (_, i) => `/api/item/${i}`), '/api/upload', '/api/download/demo.bin']

/** The 12 lines the home page renders when every call answered 200 with this token generation. */
export function expectedLines(generation: number): string[] {
  const lines: string[] = []
  for (let i = 0; i < 10; i++) lines.push(`#${i} request 200 gen=${generation}`)
  lines.push(`#10 upload 200 gen=${generation}`)
  lines.push(`#11 download 200 gen=-`)
  return lines
}

/** A line of a call that failed without an HTTP answer, tokenrelay's error code in its note. */
export const failedLine = (code: string) => new RegExp(`^#\\d+ (request|upload|download) ERR gen=- \\(\\w+:fail ${code}\\)$`)

export const resultLines = (texts: string[]) => texts.filter((t) => /^#\d+ /.test(t))

/** Per route of a run, `[status, generation, expired]` of every hit after `mark` (a `seq`), in arrival order. */
export function hitsSince(server: ReferenceServer, mark: number): Record<string, Array<[number, number | null, boolean]>> {
  const out: Record<string, Array<[number, number | null, boolean]>> = {}
  const hits = server
    .stats()
    .requests.filter((h) => h.seq > mark && h.route.startsWith('/api/'))
    .sort((a, b) => a.seq - b.seq)
  for (const h of hits) (out[h.route] = out[h.route] || []).push([h.status, h.generation, h.expired])
  return out
}

/** The last `seq` the server has recorded: hits after it belong to what follows. */
export const mark = (server: ReferenceServer) => server.stats().requests.reduce((m, h) => Math.max(m, h.seq), 0)

/**
 * The platform's login code API (wx.login / my.getAuthCode) starts handing out a code the reference server
 * refuses (400 invalid code), as a server refuses a banned user. Returns the function that restores it.
 */
export function refuseSilentLogin(app: MiniProgram): () => void {
  const api = app.global[app.platform] as Record<string, any>
  const name = app.platform === 'my' ? 'getAuthCode' : 'login'
  const original = api[name]
  api[name] = (o: { success?(r: object): void; complete?(r: object): void }) =>
    setTimeout(() => {
      const res = app.platform === 'my' ? { authCode: 'refused' } : { code: 'refused', errMsg: 'login:ok' }
      o.success?.(res)
      o.complete?.(res)
    }, 0)
  return () => {
    api[name] = original
  }
}

/**
 * H5: records every history entry the app pushes or replaces (uni-h5's router: navigateTo → pushState,
 * redirectTo → replaceState) as `push <route>` / `replace <route>` (the entry page's `#/` as its route).
 * Call after the app loaded.
 */
export async function recordH5Navigations(app: H5App): Promise<() => Promise<string[]>> {
  await app.page.evaluate(`(() => {
    const navs = (window.__navs = [])
    for (const kind of ['push', 'replace']) {
      const original = history[kind + 'State'].bind(history)
      history[kind + 'State'] = (state, title, url) => {
        navs.push(kind + ' ' + String(url || '').replace(/^[^#]*#/, ''))
        return original(state, title, url)
      }
    }
  })()`)
  return async () => (await app.page.evaluate<string[]>('window.__navs.slice()')).map((n) => n.replace(/ \/?$/, ` ${HOME}`))
}

/** H5: the current route (hash router), without its query. uni-h5 serves the entry page (home) at `#/`. */
export const h5Route = async (app: H5App) =>
  (await app.page.evaluate<string>('location.hash.slice(1).split("?")[0]')).replace(/^\/?$/, HOME)

/** H5: waits until the app shows `route`. */
export async function waitForH5Route(app: H5App, route: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = ''
  while ((last = await h5Route(app)) !== route) {
    if (Date.now() > deadline) throw new Error(`waitForH5Route(${route}) timed out; the app shows ${last}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Polls `check` until it is truthy. */
export async function until(check: () => unknown, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`until(${what}) timed out`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/**
 * The uni-app suites tell one session in steps on ONE app instance (loading a fresh build and replaying
 * the session up to each step would multiply the suite's time): each step starts where the previous one
 * ended. Call inside a `describe.sequential`: once a step fails, the later ones are skipped, naming it,
 * instead of failing for a reason that is not theirs.
 */
export function stepsInOrder(): void {
  let failed: string | undefined
  beforeEach((ctx) => {
    ctx.skip(failed !== undefined, `needs the step "${failed}", which failed`)
    ctx.onTestFailed(() => {
      failed = ctx.task.name
    })
  })
}

/**
 * A real `uni build -p mp-weixin` of a throwaway project inside playground-uniapp (so it resolves the packed
 * tokenrelay installed there) whose vite.config.ts has `tokenRelay(pluginOptions)`; `files` replace or add
 * files under src/. Returns the exit status and what the CLI printed; the project is removed.
 */
export function uniBuild(
  name: string,
  pluginOptions: Record<string, unknown>,
  files: Record<string, string> = {},
): { status: number | null; output: string } {
  const playground = path.join(REPO_ROOT, 'playground-uniapp')
  const dir = path.join(playground, 'node_modules/.cache/tokenrelay-e2e', name)
  fs.rmSync(dir, { recursive: true, force: true })
  const all: Record<string, string> = {
    'package.json': JSON.stringify({ name, version: '0.0.0', private: true }),
    'vite.config.ts': `import { defineConfig } from 'vite'
import uni from '@dcloudio/vite-plugin-uni'
import { tokenRelay } from 'tokenrelay/uniapp/vite'
export default defineConfig({ plugins: [uni(), tokenRelay(${JSON.stringify(pluginOptions)} as any)] })
`,
    'index.html':
      '<!DOCTYPE html><html><body><div id="app"><!--app-html--></div><script type="module" src="/src/main.ts"></script></body></html>\n',
    'src/main.ts':
      "import { createSSRApp } from 'vue'\nimport App from './App.vue'\nexport function createApp() {\n  const app = createSSRApp(App)\n  return { app }\n}\n",
    'src/App.vue': '<script setup lang="ts">\nconst launched = true\n</script>\n',
    'src/pages/index/index.vue': '<template><view>index</view></template>\n',
    'src/pages.json': JSON.stringify({ pages: [{ path: 'pages/index/index' }] }),
    'src/manifest.json': JSON.stringify({ name, appid: '', vueVersion: '3', 'mp-weixin': { appid: 'touristappid' } }),
    'src/tokenrelay.config.ts': "export default { baseURL: 'https://api.example.com' }\n",
    ...Object.fromEntries(Object.entries(files).map(([file, content]) => [`src/${file}`, content])),
  }
  for (const [file, content] of Object.entries(all)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true })
    fs.writeFileSync(path.join(dir, file), content)
  }
  const res = spawnSync(
    process.execPath,
    [path.join(playground, 'node_modules/@dcloudio/vite-plugin-uni/bin/uni.js'), 'build', '-p', 'mp-weixin'],
    {
      cwd: dir,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, NODE_ENV: 'production', FORCE_COLOR: '0', UNI_INPUT_DIR: '', UNI_OUTPUT_DIR: '' },
    },
  )
  fs.rmSync(dir, { recursive: true, force: true })
  return { status: res.status, output: `${res.stdout}\n${res.stderr}` }
}
