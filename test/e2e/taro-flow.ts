/**
 * Helpers for taro.e2e.ts: the playground's page lines, the reference server's hits, and a real
 * `taro build` of a throwaway project (to see how a bad plugin configuration fails).
 */
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { expect } from 'vitest'
import type { startServer } from '../../playground-server/server.js'
import { REPO_ROOT } from './h5-runtime'

export type ReferenceServer = Awaited<ReturnType<typeof startServer>>
type Hit = ReturnType<ReferenceServer['stats']>['requests'][number]

export const PLAYGROUND = path.join(REPO_ROOT, 'playground-taro')
export const HOME = '/pages/home/index'
export const LOGIN = '/pages/login/index'

/** The 12 result lines the home page renders when every call got `status` with token generation `gen`. */
export function expectedLines(status: number | string, generation: string, note = ''): string[] {
  const lines: string[] = []
  for (let i = 0; i < 10; i++) lines.push(`#${i} request ${status} gen=${generation}${note && ` (request:fail ${note})`}`)
  lines.push(`#10 upload ${status} gen=${generation}${note && ` (uploadFile:fail ${note})`}`)
  lines.push(`#11 download ${status} gen=-${note && ` (downloadFile:fail ${note})`}`)
  return lines
}

export const resultLines = (texts: string[]): string[] => texts.filter((t) => /^#\d+ /.test(t))

/** The 12 /api/* routes one "Run all" calls. */
export const API_ROUTES = [...Array.from({ length: 10 }, (_, i) => `/api/item/${i}`), '/api/upload', '/api/download/demo.bin'].sort()

/** Server hits after `seq` (a mark taken with `mark()`). */
export function hitsSince(ref: ReferenceServer, seq: number): Hit[] {
  return ref.stats().requests.filter((h) => h.seq > seq)
}

export function mark(ref: ReferenceServer): number {
  const requests = ref.stats().requests
  return requests.length ? Math.max(...requests.map((h) => h.seq)) : 0
}

/**
 * One "Run all" after every access token expired, as the server saw it: each of the 12 routes refused
 * once (the old generation) and answered 200 once with generation `gen`, and exactly one refresh.
 * `notReplayed`: routes whose expiry answer the client cannot see (a download's body goes to a file, so
 * an HTTP 200 + body code expiry reaches the app as a downloaded file).
 */
export function expectOneRefreshAndReplays(hits: Hit[], gen: number, notReplayed: string[] = []): void {
  const api = hits.filter((h) => h.route.startsWith('/api/'))
  const refused = api.filter((h) => h.expired)
  const served = api.filter((h) => !h.expired)
  const replayed = API_ROUTES.filter((r) => notReplayed.indexOf(r) < 0)
  expect(hits.filter((h) => h.route === '/auth/refresh').map((h) => h.status)).toEqual([200])
  expect(hits.filter((h) => h.route === '/auth/login')).toEqual([])
  expect(refused.map((h) => h.route).sort()).toEqual(API_ROUTES)
  expect(refused.every((h) => h.generation === gen - 1)).toBe(true)
  expect(served.map((h) => h.route).sort()).toEqual(replayed)
  expect(served.map((h) => [h.status, h.generation])).toEqual(Array(replayed.length).fill([200, gen]))
}

/** A throwaway Taro project (inside the playground, so it resolves the playground's node_modules). */
export interface BuildResult {
  status: number | null
  output: string
  ms: number
}

/**
 * Runs the real `taro build --type weapp` on a minimal project whose config/index.ts adds
 * tokenrelay/taro/plugin with `pluginOptions`, and whose src/ holds `files`.
 */
export function taroBuild(name: string, pluginOptions: Record<string, unknown>, files: Record<string, string> = {}): BuildResult {
  const dir = path.join(PLAYGROUND, 'node_modules/.cache/tokenrelay-e2e', name)
  fs.rmSync(dir, { recursive: true, force: true })
  fs.mkdirSync(path.join(dir, 'config'), { recursive: true })
  fs.mkdirSync(path.join(dir, 'src'), { recursive: true })
  fs.writeFileSync(
    path.join(dir, 'config/index.ts'),
    `export default {
  projectName: ${JSON.stringify(name)},
  sourceRoot: 'src',
  outputRoot: 'dist',
  framework: 'react',
  compiler: 'webpack5',
  designWidth: 750,
  deviceRatio: { 750: 1 },
  plugins: [[require.resolve('tokenrelay/taro/plugin'), ${JSON.stringify(pluginOptions)}]],
  mini: {},
  h5: {},
}
`,
  )
  fs.writeFileSync(path.join(dir, 'src/app.config.ts'), "export default defineAppConfig({ pages: ['pages/index/index'] })\n")
  for (const [file, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, 'src', file), content)
  const started = Date.now()
  const res = spawnSync(process.execPath, [path.join(PLAYGROUND, 'node_modules/@tarojs/cli/bin/taro'), 'build', '--type', 'weapp'], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, NODE_ENV: 'production', FORCE_COLOR: '0' },
  })
  const ms = Date.now() - started
  fs.rmSync(dir, { recursive: true, force: true })
  return { status: res.status, output: `${res.stdout}\n${res.stderr}`, ms }
}

/**
 * Builds a throwaway Taro React app (`files` under src/, relative paths; `config` merged into config/index.ts,
 * as JSON) for `type` inside the playground, so it resolves the playground's node_modules (tokenrelay
 * included, as the packed tarball). The project stays for the caller to run: remove `dir` afterwards.
 */
export function buildTaroApp(
  name: string,
  type: 'weapp' | 'h5',
  files: Record<string, string>,
  config: Record<string, unknown> = {},
): BuildResult & { dir: string; dist: string } {
  const dir = path.join(PLAYGROUND, 'node_modules/.cache/tokenrelay-e2e', name)
  fs.rmSync(dir, { recursive: true, force: true })
  const base = {
    projectName: name,
    sourceRoot: 'src',
    outputRoot: 'dist',
    framework: 'react',
    compiler: 'webpack5',
    designWidth: 750,
    deviceRatio: { 750: 1 },
    plugins: [],
    mini: {},
    h5: { publicPath: '/', router: { mode: 'hash' } },
  }
  const all: Record<string, string> = {
    'config/index.ts': `export default ${JSON.stringify({ ...base, ...config }, null, 2)}\n`,
    'babel.config.js': "module.exports = { presets: [['taro', { framework: 'react', ts: true, compiler: 'webpack5' }]] }\n",
    'src/index.html':
      '<!DOCTYPE html><html><head><meta charset="utf-8"><script><%= htmlWebpackPlugin.options.script %></script></head><body><div id="app"></div></body></html>\n',
    ...Object.fromEntries(Object.entries(files).map(([file, content]) => [`src/${file}`, content])),
  }
  for (const [file, content] of Object.entries(all)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true })
    fs.writeFileSync(path.join(dir, file), content)
  }
  const started = Date.now()
  const res = spawnSync(process.execPath, [path.join(PLAYGROUND, 'node_modules/@tarojs/cli/bin/taro'), 'build', '--type', type], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, NODE_ENV: 'production', FORCE_COLOR: '0' },
  })
  return { dir, dist: path.join(dir, 'dist'), status: res.status, output: `${res.stdout}\n${res.stderr}`, ms: Date.now() - started }
}
