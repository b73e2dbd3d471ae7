/**
 * One loaded program: puts the parts together (sandbox, files, network, code loader, pages, the platform
 * globals), launches the program as the platform does (App `onLaunch` → `onShow`, then the entry page
 * `onLoad(query)` → `onShow` → `onReady`), tears it all down on close(), and hands the tests the
 * MiniProgram view of it.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { FileSystem } from './files'
import { Loader } from './loader'
import { Network } from './network'
import { collectStrings } from './page-data'
import { Pages } from './pages'
import { installPlatformGlobals, type InstalledGlobals } from './platform-globals'
import { Sandbox, macrotask, safeInspect } from './sandbox'
import { initialStorage } from './storage'
import { tap } from './taps'
import type { LoadMiniProgramOptions, MiniProgram, NavigationRecord } from './types'

export async function loadMiniProgram(opts: LoadMiniProgramOptions): Promise<MiniProgram> {
  const rt = new Runtime(opts)
  try {
    await rt.launch()
  } catch (err) {
    await rt.close()
    throw err
  }
  return rt.api()
}

class Runtime {
  private readonly sb: Sandbox
  private readonly files: FileSystem
  private readonly network: Network
  private readonly loader: Loader
  private readonly pages: Pages
  private readonly storage: Map<string, unknown>
  private readonly navigations: NavigationRecord[] = []
  private readonly globals: InstalledGlobals

  constructor(opts: LoadMiniProgramOptions) {
    const dir = path.resolve(opts.dir)
    const appJsonPath = path.join(dir, 'app.json')
    if (!fs.existsSync(path.join(dir, 'app.js')) || !fs.existsSync(appJsonPath)) {
      throw new Error(`${dir} is not a compiled mini program (app.js / app.json missing): build it first`)
    }
    const appJson = JSON.parse(fs.readFileSync(appJsonPath, 'utf8'))
    this.sb = new Sandbox(opts, dir)
    this.files = new FileSystem(this.sb)
    this.storage = initialStorage(opts)
    this.network = new Network(this.sb, this.files)
    this.loader = new Loader(this.sb)
    this.pages = new Pages(this.sb, this.loader, appJson)
    this.globals = installPlatformGlobals({
      sb: this.sb,
      loader: this.loader,
      pages: this.pages,
      network: this.network,
      files: this.files,
      storage: this.storage,
      navigations: this.navigations,
    })
  }

  async launch(): Promise<void> {
    const { sb, loader, pages } = this
    const timeout = sb.opts.launchTimeoutMs ?? 10_000
    let timer: NodeJS.Timeout | undefined
    const launching = (async () => {
      loader.requireFile(path.join(sb.dir, 'app.js'))
      const app = loader.appOptions
      if (!app) throw new Error('app.js did not call App()')
      const launchOptions = sb.toRealm(pages.launchOptions())
      if (typeof app.onLaunch === 'function') sb.guard(() => app.onLaunch.call(loader.appInstance, launchOptions))
      if (typeof app.onShow === 'function') sb.guard(() => app.onShow.call(loader.appInstance, launchOptions))
      for (const cb of loader.appShowListeners) sb.guard(() => cb(launchOptions))
      await macrotask()
      const entry = pages.entryRoute()
      this.navigations.push({ api: 'launch', url: `/${entry}`, ok: true })
      await pages.open(entry, sb.opts.query || {})
    })()
    try {
      await Promise.race([
        launching,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`launch took longer than ${timeout} ms`)), timeout)
        }),
      ])
    } finally {
      if (timer) clearTimeout(timer)
    }
    if (sb.errors.length) {
      const first = sb.errors[0]
      throw new Error(`the program threw during launch: ${(first as Error)?.stack || safeInspect(first)}`)
    }
  }

  async close(): Promise<void> {
    if (this.sb.closed) return
    // Before `closed` is set: aborting frees slots, and nothing queued may start after it.
    this.network.abortAll()
    this.sb.closed = true
    this.sb.clearTimers()
    this.pages.clear()
    this.loader.clear()
    this.files.remove()
  }

  api(): MiniProgram {
    const { sb, pages, network, loader, globals } = this
    return {
      platform: sb.platform,
      dir: sb.dir,
      routes: pages.routes,
      get appInstance() {
        return loader.appInstance
      },
      pages: () => [...pages.stack],
      page: (name?: string) => pages.instance(name),
      pageData: (name?: string) => JSON.parse(JSON.stringify(pages.instance(name).data)),
      texts: (name?: string) => collectStrings(pages.instance(name).data),
      tap: (name: string, id: string, timeoutMs?: number) => tap(sb, pages, name, id, timeoutMs),
      call: async (name: string, method: string, ...args: unknown[]) => {
        const inst = pages.instance(name)
        if (typeof inst[method] !== 'function') throw new Error(`${inst.route} has no method ${method}`)
        const out = sb.guard(() => inst[method](...args))
        await macrotask()
        return out
      },
      waitFor: (check, timeoutMs, what) => sb.waitFor(check, timeoutMs, what),
      waitForText: async (name: string, pattern: RegExp | string, timeoutMs?: number) => {
        const test = (s: string) => (typeof pattern === 'string' ? s.includes(pattern) : pattern.test(s))
        await sb.waitFor(() => collectStrings(pages.instance(name).data).some(test), timeoutMs, `text ${pattern} on ${name}`)
        return collectStrings(pages.instance(name).data)
      },
      idle: async (timeoutMs?: number) => {
        await sb.waitFor(() => network.pending === 0, timeoutMs, 'network idle')
        await macrotask()
      },
      navigations: this.navigations,
      http: network.http,
      get maxInFlightSeen() {
        return network.maxSeen
      },
      logs: sb.logs,
      errors: sb.errors,
      get missingApis() {
        return [...globals.missing].sort()
      },
      loginCodes: globals.loginCodes,
      loginForce: globals.loginForce,
      storage: this.storage,
      realPath: (v: string) => this.files.realPath(v),
      global: sb.global,
      close: () => this.close(),
    }
  }
}
