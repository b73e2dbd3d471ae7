/**
 * Pages as the platform runs them: pages made with `Page()` (Taro, uni on Alipay) and with `Component()`
 * (uni on WeChat) get the same instance surface (`route`, `options`, `data`, `setData`, Alipay's
 * `$spliceData`) and their lifecycle hooks in the platform's order (`onLoad(query)` → `onShow` → `onReady`,
 * `onUnload` on close; a component page's lifetimes and pageLifetimes too); one page stack, which
 * getCurrentPages() returns. No view layer: child components are not instantiated and selector queries
 * answer nothing.
 */
import type { Loader } from './loader'
import { getPath, setPath } from './page-data'
import { macrotask, type Sandbox } from './sandbox'
import type { PageInstance } from './types'

export class Pages {
  /** The page stack, bottom first (the same objects the program's getCurrentPages() returns). */
  readonly stack: PageInstance[] = []
  /** Routes from app.json. */
  readonly routes: string[]
  readonly tabRoutes: string[]
  private webviewId = 0

  constructor(
    private readonly sb: Sandbox,
    private readonly loader: Loader,
    private readonly appJson: Record<string, any>,
  ) {
    this.routes = (appJson.pages || []).map((p: string) => p.replace(/^\//, ''))
    this.tabRoutes = ((appJson.tabBar && appJson.tabBar.list) || []).map((t: any) => String(t.pagePath).replace(/^\//, ''))
  }

  /** A route or a short name (`'home'` → `pages/home/index`) as a route from app.json. */
  routeOf(name: string): string {
    const clean = name.replace(/^\//, '').split('?')[0]
    if (this.routes.includes(clean)) return clean
    const hit = this.routes.find((r) => r.split('/').includes(clean))
    if (!hit) throw new Error(`no page "${name}" in app.json (${this.routes.join(', ')})`)
    return hit
  }

  entryRoute(): string {
    return this.sb.opts.entry ? this.routeOf(this.sb.opts.entry) : this.appJson.entryPagePath || this.routes[0]
  }

  /** What App.onLaunch / onShow and getLaunchOptionsSync() receive. */
  launchOptions(): Record<string, unknown> {
    const entry = this.entryRoute()
    return { path: entry, query: this.sb.opts.query || {}, scene: 1001, referrerInfo: {} }
  }

  /** The topmost open page for a route or short name; the top page without one. */
  instance(name?: string): PageInstance {
    if (!this.stack.length) throw new Error('no page is open')
    if (!name) return this.stack[this.stack.length - 1]
    const route = this.routeOf(name)
    for (let i = this.stack.length - 1; i >= 0; i--) if (this.stack[i].route === route) return this.stack[i]
    throw new Error(`page ${route} is not open (stack: ${this.stack.map((p) => p.route).join(' > ')})`)
  }

  /** Pushes a new instance of the page and runs its hooks up to onReady. */
  async open(route: string, query: Record<string, string>): Promise<PageInstance> {
    const inst = this.create(route, query)
    this.stack.push(inst)
    const def = this.loader.definitions.get(route)!
    if (def.kind === 'component') {
      this.hook(inst, 'created')
      this.hook(inst, 'attached')
    }
    this.hook(inst, 'onLoad', this.sb.toRealm(query))
    this.hook(inst, 'onShow')
    await macrotask()
    if (def.kind === 'component') this.hook(inst, 'ready')
    this.hook(inst, 'onReady')
    return inst
  }

  /** Runs the unload hooks of a page already taken off the stack. */
  close(inst: PageInstance): void {
    this.hook(inst, 'onUnload')
    const def = this.loader.definitions.get(inst.route)
    if (def && def.kind === 'component') this.hook(inst, 'detached')
  }

  /** Calls a lifecycle hook the way the page's kind receives it. */
  hook(inst: PageInstance, name: string, ...args: unknown[]): void {
    const def = this.loader.definitions.get(inst.route)
    if (!def) return
    const sb = this.sb
    if (def.kind === 'page') {
      if (typeof inst[name] === 'function') sb.guard(() => inst[name](...args))
      return
    }
    const o = def.options
    const lifetimes = { ...(o.lifetimes || {}) }
    for (const l of ['created', 'attached', 'ready', 'detached']) if (!lifetimes[l] && typeof o[l] === 'function') lifetimes[l] = o[l]
    const behaviorHooks = (o.behaviors || []).filter((b: unknown) => b && typeof b === 'object')
    const call = (fn: unknown) => {
      if (typeof fn === 'function') sb.guard(() => (fn as (...a: unknown[]) => unknown).apply(inst, args))
    }
    switch (name) {
      case 'created':
      case 'attached':
      case 'ready':
      case 'detached':
        for (const b of behaviorHooks) call((b.lifetimes || {})[name] || b[name])
        call(lifetimes[name])
        return
      case 'onShow':
        call((o.pageLifetimes || {}).show)
        call(inst.onShow)
        return
      case 'onHide':
        call((o.pageLifetimes || {}).hide)
        call(inst.onHide)
        return
      default:
        call(inst[name])
    }
  }

  clear(): void {
    this.stack.length = 0
  }

  private create(route: string, query: Record<string, string>): PageInstance {
    const sb = this.sb
    const def = this.loader.definitionFor(route)
    const o = def.options
    this.webviewId += 1
    const inst: PageInstance = {
      route,
      __route__: route,
      is: route,
      options: sb.toRealm(query),
      __wxWebviewId__: this.webviewId,
      $viewId: String(this.webviewId),
      // Douyin marks a page's root with node id 0 (uni-mp-toutiao tells pages from components by it).
      ...(sb.platform === 'tt' ? { __webviewId__: this.webviewId, __nodeId__: 0 } : {}),
      data: {},
      setData(patch: Record<string, unknown>, cb?: () => void) {
        if (!patch || typeof patch !== 'object') return
        for (const [key, value] of Object.entries(patch)) setPath(inst.data, key, value === undefined ? undefined : sb.toRealm(value))
        inst.__setDataCount = (inst.__setDataCount || 0) + 1
        if (typeof cb === 'function') sb.later(() => cb.call(inst))
      },
    }
    if (sb.platform === 'my') {
      inst.$spliceData = (patch: Record<string, unknown[]>, cb?: () => void) => {
        for (const [key, spec] of Object.entries(patch || {})) {
          const arr = getPath(inst.data, key)
          if (Array.isArray(arr) && Array.isArray(spec)) {
            const [start, del, ...items] = spec as [number, number, ...unknown[]]
            arr.splice(start, del, ...items.map((x) => sb.toRealm(x)))
          }
        }
        if (typeof cb === 'function') sb.later(() => cb.call(inst))
      }
      inst.$batchedUpdates = (fn: () => void) => fn()
      inst.$page = inst
    }
    inst.selectComponent = () => null
    inst.selectAllComponents = () => sb.realm.Array.from([])
    inst.createSelectorQuery = () => selectorQueryStub()
    inst.triggerEvent = () => {}
    inst.getOpenerEventChannel = () => ({ emit: () => {}, on: () => {}, once: () => {}, off: () => {} })

    if (def.kind === 'page') {
      for (const [k, v] of Object.entries(o)) {
        if (k === 'data') continue
        inst[k] = v
      }
      inst.data = sb.toRealm(o.data || {})
    } else {
      // Component() used as a page (uni-app on WeChat): methods and behaviours land on the instance.
      const behaviors = (o.behaviors || []).filter((b: unknown) => b && typeof b === 'object')
      const data: Record<string, unknown> = {}
      for (const b of behaviors) Object.assign(data, b.data || {})
      Object.assign(data, typeof o.data === 'function' ? o.data() : o.data || {})
      const props: Record<string, unknown> = {}
      for (const [k, spec] of Object.entries(o.properties || {})) {
        props[k] = spec && typeof spec === 'object' && 'value' in (spec as object) ? (spec as { value: unknown }).value : null
      }
      inst.properties = props
      inst.data = sb.toRealm({ ...props, ...data })
      for (const b of behaviors) Object.assign(inst, b.methods || {})
      Object.assign(inst, o.methods || {})
    }
    return inst
  }
}

/** `createSelectorQuery()`: chainable, and `exec` answers an empty list (there is no view to measure). */
export function selectorQueryStub(): Record<string, any> {
  const q: Record<string, any> = {
    in: () => q,
    select: () => q,
    selectAll: () => q,
    selectViewport: () => q,
    boundingClientRect: () => q,
    scrollOffset: () => q,
    fields: () => q,
    node: () => q,
    exec: (cb?: (r: unknown[]) => void) => {
      if (cb) setTimeout(() => cb([]), 0)
    },
  }
  return q
}
