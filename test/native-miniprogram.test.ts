// Native mini programs, no bundler: the packed package as their tools see it.
// - WeChat: DevTools' 构建 npm is miniprogram-ci's packNpmManually. It copies the folder package.json#miniprogram
//   names into miniprogram_npm/tokenrelay/; the app then `require('tokenrelay/wx')` through WeChat's own module
//   lookup (miniprogram_npm, `.js` or `/index.js`; no node_modules at run time, no `exports`).
// - Alipay: the IDE has no npm build step: it reads node_modules itself (mini.project.json
//   `enableNodeModuleBabelTransform` to transpile it), resolving `tokenrelay/my` by file, sub-package.json
//   `main` or index.js, without `exports`.
// - Douyin: `require('tokenrelay/tt')` without `exports` reaches the same CommonJS folder through the tt/ stub's
//   `main` (checked here the way Alipay's IDE resolves; how Douyin's IDE copies npm packages is not simulated).
// Each app runs under the simulated platform (real HTTP) against the reference server: concurrent calls that
// meet an expired token cause exactly one refresh and all succeed on the new token.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { createRequire } from 'node:module'
import { dirname, join, relative } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { startServer } from '../playground-server/server.js'
import type { RunningServer } from '../playground-server/server.js'
import { createMy, createTt, createWx } from './helpers/mini-platform.js'
import { ROOT, packedPackage } from './helpers/packed.js'

type Obj = Record<string, any>
type Resolve = (fromDir: string, spec: string) => string | undefined

// Outside the repository: miniprogram-ci writes nothing under a path that contains node_modules/.
const base = mkdtempSync(join(tmpdir(), 'tokenrelay-native-'))
let packageDir: string
let server: RunningServer

beforeAll(() => {
  packageDir = packedPackage().dir
}, 180_000)
beforeAll(async () => {
  server = await startServer({ port: 0 })
})
afterAll(async () => {
  await server.close()
  rmSync(base, { recursive: true, force: true })
})
afterEach(() => vi.unstubAllGlobals())

const isFile = (p: string) => existsSync(p) && statSync(p).isFile()
const firstFile = (candidates: string[]) => candidates.find(isFile)

/** Relative paths, as both platforms resolve them: the file, `.js` added, or the folder's index.js. */
const relativeFile = (fromDir: string, spec: string) =>
  firstFile([join(fromDir, spec), join(fromDir, `${spec}.js`), join(fromDir, spec, 'index.js')])

/** WeChat: a package is looked up in miniprogram_npm/ from the requiring file's folder up to the project root. */
const wechatResolve =
  (project: string): Resolve =>
  (fromDir, spec) => {
    for (let dir = fromDir; dir.startsWith(project); dir = dirname(dir)) {
      const found = relativeFile(join(dir, 'miniprogram_npm'), spec)
      if (found) return found
      if (dir === project) break
    }
  }

/** Alipay's IDE: node_modules/, a sub-folder's package.json `main`, `.js`, index.js; `exports` is not read. */
const alipayResolve =
  (project: string): Resolve =>
  (fromDir, spec) => {
    for (let dir = fromDir; dir.startsWith(project); dir = dirname(dir)) {
      const target = join(dir, 'node_modules', spec)
      const pkgJson = join(target, 'package.json')
      const main = isFile(pkgJson) ? (JSON.parse(readFileSync(pkgJson, 'utf8')).main as string | undefined) : undefined
      const found = firstFile([`${target}.js`, ...(main ? [join(target, main), join(target, `${main}.js`)] : []), join(target, 'index.js')])
      if (found) return found
      if (dir === project) break
    }
  }

/** Loads a mini program's CommonJS files the way its runtime does: module, exports, require and nothing else. */
function moduleSystem(resolveBare: Resolve) {
  const cache = new Map<string, { exports: any }>()
  const loaded: string[] = []
  const load = (file: string): any => {
    const cached = cache.get(file)
    if (cached) return cached.exports
    const module = { exports: {} as any }
    cache.set(file, module)
    loaded.push(file)
    const require = (spec: string) => {
      const found = spec.startsWith('.') ? relativeFile(dirname(file), spec) : resolveBare(dirname(file), spec)
      if (!found) throw new Error(`${relative(ROOT, file)}: module '${spec}' is not defined (no such file for the mini program runtime)`)
      return load(found)
    }
    new Function('require', 'module', 'exports', readFileSync(file, 'utf8'))(require, module, module.exports)
    return module.exports
  }
  return { load, loaded }
}

/** App and Page registration, as the runtime offers them: the test drives lifecycles by hand. */
function registry() {
  let app: Obj | undefined
  const pages: Obj[] = []
  return {
    App: (options: Obj) => void (app = options),
    Page: (options: Obj) =>
      void pages.push({
        ...options,
        data: { ...options.data },
        setData(this: Obj, patch: Obj) {
          Object.assign(this.data, patch)
        },
      }),
    getApp: () => app,
    get app() {
      return app!
    },
    pages,
  }
}

const PAGE = (platform: 'wx' | 'my' | 'tt') => `
const { isTokenRelayError } = require('tokenrelay')
const { API } = require('../../config.js')
function get(path) {
  return new Promise(function (resolve, reject) {
    ${platform}.request({ url: API + path, success: resolve, fail: reject })
  })
}
Page({
  data: { results: [], ended: false },
  load(count) {
    const calls = []
    for (let i = 0; i < count; i++) calls.push(get('/api/native/' + i))
    return Promise.all(calls).then((answers) => {
      this.setData({ results: answers.map((r) => (r.statusCode || r.status) + ' gen ' + r.data.generation) })
    }, (error) => this.setData({ ended: isTokenRelayError(error) }))
  },
})
`

/** app.json, config.js, app.js (install() from `tokenrelay/<adapter>`, the login code sent as `codeField`) and the home page. */
const appFiles = (adapter: 'wx' | 'my' | 'tt', codeField: 'code' | 'authCode') => ({
  'app.json': JSON.stringify({ pages: ['pages/home/index', 'pages/login/index'] }),
  'config.js': `module.exports = { API: ${JSON.stringify(server.url)} }\n`,
  'app.js': `
const { install } = require('tokenrelay/${adapter}')
const { API } = require('./config.js')
App({
  onLaunch() {
    this.relay = install({
      baseURL: API,
      refresh: ({ refreshToken, request }) => request({ url: '/auth/refresh', method: 'POST', data: { refreshToken } }).then((r) => r.data),
      exchange: (${codeField}, { request }) => request({ url: '/auth/login', method: 'POST', data: { ${codeField} } }).then((r) => r.data),
      loginPage: '/pages/login/index',
    })
  },
})
`,
  'pages/home/index.js': PAGE(adapter),
})

/** Launches the project as the platform would: `name` as the global, App/Page registered, app.js then the home page. */
function launch(project: string, name: string, platform: object, getCurrentPages: unknown, resolve: (project: string) => Resolve) {
  const runtime = registry()
  vi.stubGlobal(name, platform)
  vi.stubGlobal('getCurrentPages', getCurrentPages)
  vi.stubGlobal('App', runtime.App)
  vi.stubGlobal('Page', runtime.Page)
  vi.stubGlobal('getApp', runtime.getApp)
  const modules = moduleSystem(resolve(project))
  modules.load(join(project, 'app.js'))
  modules.load(join(project, 'pages/home/index.js'))
  runtime.app.onLaunch()
  return { runtime, modules, page: runtime.pages[0] }
}

function writeProject(dir: string, files: Record<string, string>) {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true })
    writeFileSync(join(dir, name), text)
  }
  cpSync(packageDir, join(dir, 'node_modules/tokenrelay'), { recursive: true })
}

async function expireAndLoad(page: Obj, count: number) {
  const before = server.stats().refreshes
  server.control({ expireAllNow: true })
  await page.load(count)
  return server.stats().refreshes - before
}

describe('native WeChat project (构建 npm, then require)', () => {
  const project = join(base, 'wechat')

  it('packNpmManually builds miniprogram_npm/tokenrelay from the miniprogram folder, with no warning', async () => {
    writeProject(project, {
      'project.config.json': JSON.stringify({ compileType: 'miniprogram', miniprogramRoot: './', setting: { packNpmManually: true } }),
      'package.json': JSON.stringify({ name: 'native-wechat', private: true, dependencies: { tokenrelay: '*' } }),
      ...appFiles('wx', 'code'),
    })
    const ci = createRequire(import.meta.url)('miniprogram-ci') as {
      packNpmManually(o: {
        packageJsonPath: string
        miniprogramNpmDistDir: string
      }): Promise<{ miniProgramPackNum: number; warnList: unknown[] }>
    }
    const result = await ci.packNpmManually({ packageJsonPath: join(project, 'package.json'), miniprogramNpmDistDir: project })
    expect(result.warnList).toEqual([])
    expect(result.miniProgramPackNum).toBe(1)
    const out = join(project, 'miniprogram_npm/tokenrelay')
    expect(readdirSync(out)).toEqual(expect.arrayContaining(['index.js', 'wx.js', 'my.js']))
    expect(readdirSync(out).sort()).toEqual(readdirSync(join(packageDir, 'dist/miniprogram')).sort())
  }, 120_000)

  it('the built app runs under wx: silent login, then one refresh for 8 concurrent expired calls', async () => {
    // What ships to the phone: no node_modules.
    rmSync(join(project, 'node_modules'), { recursive: true, force: true })
    const sim = createWx()
    const { runtime, modules, page } = launch(project, 'wx', sim.wx, sim.getCurrentPages, wechatResolve)

    const logins = server.stats().logins
    await page.load(1)
    expect(server.stats().logins - logins).toBe(1)
    expect(await expireAndLoad(page, 8)).toBe(1)
    expect(page.data.results).toHaveLength(8)
    expect(new Set(page.data.results)).toEqual(new Set([page.data.results[0]]))
    expect(page.data.results[0]).toMatch(/^200 gen \d+$/)
    expect(page.data.ended).toBe(false)
    const files = modules.loaded.map((f) => relative(project, f))
    expect(files).toEqual(expect.arrayContaining(['miniprogram_npm/tokenrelay/wx.js', 'miniprogram_npm/tokenrelay/index.js']))
    for (const f of files) expect(f).not.toMatch(/^node_modules\//)
    runtime.app.relay.uninstall()
  }, 60_000)
})

describe('native Alipay project (node_modules read by the IDE)', () => {
  const project = join(base, 'alipay')

  it("require('tokenrelay/my') resolves without exports, and one refresh serves 8 concurrent expired calls", async () => {
    writeProject(project, {
      'mini.project.json': JSON.stringify({ format: 2, compileOptions: { component2: true, enableNodeModuleBabelTransform: true } }),
      'package.json': JSON.stringify({ name: 'native-alipay', private: true, dependencies: { tokenrelay: '*' } }),
      ...appFiles('my', 'authCode'),
    })
    const sim = createMy()
    const { runtime, modules, page } = launch(project, 'my', sim.my, sim.getCurrentPages, alipayResolve)

    const logins = server.stats().logins
    await page.load(1)
    expect(server.stats().logins - logins).toBe(1)
    expect(await expireAndLoad(page, 8)).toBe(1)
    expect(page.data.results).toHaveLength(8)
    expect(new Set(page.data.results).size).toBe(1)
    expect(page.data.results[0]).toMatch(/^200 gen \d+$/)
    // Through the my/ stub's main: the CommonJS files of the miniprogram folder, `.js` only.
    const files = modules.loaded.map((f) => relative(project, f))
    expect(files).toContain('node_modules/tokenrelay/dist/miniprogram/my.js')
    for (const f of files.filter((f) => f.startsWith('node_modules/')))
      expect(f).toMatch(/^node_modules\/tokenrelay\/dist\/miniprogram\/[\w-]+\.js$/)
    runtime.app.relay.uninstall()
  }, 60_000)
})

describe('native Douyin project (tokenrelay/tt without exports)', () => {
  const project = join(base, 'douyin')

  it("require('tokenrelay/tt') reaches dist/miniprogram/tt.js through the tt/ stub, and one refresh serves 8 concurrent expired calls", async () => {
    writeProject(project, {
      'project.config.json': JSON.stringify({ compileType: 'miniprogram' }),
      'package.json': JSON.stringify({ name: 'native-douyin', private: true, dependencies: { tokenrelay: '*' } }),
      ...appFiles('tt', 'code'),
    })
    const sim = createTt()
    const { runtime, modules, page } = launch(project, 'tt', sim.tt, sim.getCurrentPages, alipayResolve)

    const logins = server.stats().logins
    await page.load(1)
    expect(server.stats().logins - logins).toBe(1)
    expect(sim.state.logins).toEqual([{ force: false }])
    expect(await expireAndLoad(page, 8)).toBe(1)
    expect(page.data.results).toHaveLength(8)
    expect(new Set(page.data.results).size).toBe(1)
    expect(page.data.results[0]).toMatch(/^200 gen \d+$/)
    const files = modules.loaded.map((f) => relative(project, f))
    expect(files).toContain('node_modules/tokenrelay/dist/miniprogram/tt.js')
    for (const f of files.filter((f) => f.startsWith('node_modules/')))
      expect(f).toMatch(/^node_modules\/tokenrelay\/dist\/miniprogram\/[\w-]+\.js$/)
    runtime.app.relay.uninstall()
  }, 60_000)
})
