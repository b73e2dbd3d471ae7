/**
 * Loads the program's code into the sandbox: a small CommonJS `require` confined to the program's
 * directory (no Node built-ins or packages, like the real runtime, so a build that leaks a Node import
 * fails here too), and what the code registers: `App()` and the page each page file makes with `Page()`
 * or `Component()`. Page files load lazily, when the page first opens, as on the platform.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import * as vm from 'node:vm'
import type { Sandbox } from './sandbox'

export interface PageDefinition {
  kind: 'page' | 'component'
  options: Record<string, any>
}

export class Loader {
  /** What app.js passed to App(), once it ran. */
  appOptions: Record<string, any> | null = null
  /** The program's getApp(). */
  appInstance: Record<string, any> = {}
  /** `wx.onAppShow` / `my.onAppShow` listeners, told at launch. */
  readonly appShowListeners: Array<(o: unknown) => void> = []
  readonly definitions = new Map<string, PageDefinition>()
  private modules = new Map<string, { exports: any }>()
  private registering: string | null = null

  constructor(private readonly sb: Sandbox) {}

  registerApp(options: Record<string, any>): void {
    this.appOptions = options
    // getApp() is the options object itself, like the platform (methods and globalData on it).
    this.appInstance = options
  }

  define(kind: 'page' | 'component', options: Record<string, any>): void {
    // The first Page()/Component() made while a page file loads is that page.
    if (this.registering && !this.definitions.has(this.registering)) {
      this.definitions.set(this.registering, { kind, options })
    }
  }

  /** The page's definition, loading `<route>.js` the first time. */
  definitionFor(route: string): PageDefinition {
    let def = this.definitions.get(route)
    if (!def) {
      this.registering = route
      try {
        this.requireFile(path.join(this.sb.dir, `${route}.js`))
      } finally {
        this.registering = null
      }
      def = this.definitions.get(route)
    }
    if (!def) throw new Error(`${route}.js did not call Page() or Component()`)
    return def
  }

  requireFile(file: string): any {
    const abs = path.resolve(file)
    const cached = this.modules.get(abs)
    if (cached) return cached.exports
    if (!abs.startsWith(this.sb.dir + path.sep)) throw new Error(`require outside the program: ${abs}`)
    const source = fs.readFileSync(abs, 'utf8')
    const module = { exports: {} as any }
    this.modules.set(abs, module)
    const wrapper = `(function (exports, require, module) {${source}\n})`
    const fn = new vm.Script(wrapper, { filename: abs }).runInContext(this.sb.ctx)
    const localRequire = (spec: string) => this.requireFile(this.resolve(abs, spec))
    fn.call(module.exports, module.exports, localRequire, module)
    return module.exports
  }

  private resolve(from: string, spec: string): string {
    const dir = this.sb.dir
    if (!spec.startsWith('.') && !spec.startsWith('/')) {
      throw new Error(`module "${spec}" not found from ${path.relative(dir, from)} (no Node built-ins or packages in a mini program)`)
    }
    const base = spec.startsWith('/') ? path.join(dir, spec) : path.resolve(path.dirname(from), spec)
    for (const candidate of [base, `${base}.js`, path.join(base, 'index.js')]) {
      if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate
    }
    throw new Error(`module "${spec}" not found from ${path.relative(dir, from)}`)
  }

  clear(): void {
    this.modules.clear()
  }
}
