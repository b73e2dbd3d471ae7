// The REAL Taro 4 runtime (`@tarojs/taro` + `@tarojs/plugin-platform-weapp|alipay|tt` runtime) under Node,
// over the simulated `wx` / `my` / `tt` of mini-platform.ts (real HTTP to the reference server).
//
// Taro captures the platform global when it initialises (`processApis(taro, wx)`), and Node caches
// `@tarojs/taro` across `vi.resetModules()`, so one runtime per test file: weapp, alipay and tt live in
// separate files. The global is a fixed object whose members delegate to the CURRENT simulation, so
// every test still gets a fresh one (`reset()`).
import { simulated } from './mini-platform.js'
import type { SimLife } from './mini-platform.js'

export type TaroEnv = 'weapp' | 'alipay' | 'tt'
type Obj = Record<string, any>

export interface TaroSim {
  /** The simulated platform object (`wx`, `my` or `tt`). */
  api: Obj
  storage: Map<string, unknown>
  navigations: { api: string; url: string }[]
  stack: { route: string; options: Obj }[]
  state: Obj
  /** App show / hide and the network status, as the test drives them. */
  life: SimLife
  /** The global `getCurrentPages` (not a member of wx/my/tt). */
  getCurrentPages(): { route: string; options: Obj }[]
}

export interface SimSetup {
  pages?: string[]
  /** What `getApp().config.tabBar.list` reports (Taro keeps app.config.ts on the app). */
  tabBar?: string[]
}

/** The platform global each Taro target calls into. */
const globalName = { weapp: 'wx', alipay: 'my', tt: 'tt' } as const

function simulate(env: TaroEnv, setup: SimSetup): TaroSim {
  const { api, storage, navigations, stack, state, life, getCurrentPages } = simulated(globalName[env], { pages: setup.pages })
  return { api, storage, navigations, stack, state, life, getCurrentPages }
}

/** Loads Taro for `env`. Call once per test file, before anything imports '@tarojs/taro'. */
export async function loadTaro(env: TaroEnv) {
  const g = globalThis as Obj
  for (const flag of ['INNER_HTML', 'ADJACENT_HTML', 'SIZE_APIS', 'TEMPLATE_CONTENT', 'CLONE_NODE', 'CONTAINS', 'MUTATION_OBSERVER']) {
    g['ENABLE_' + flag] = false
  }
  process.env.TARO_ENV = env
  process.env.TARO_PLATFORM = 'mini'

  let setup: SimSetup = {}
  let sim = simulate(env, setup)
  const platform: Obj = {}
  for (const key of Object.keys(sim.api)) platform[key] = (...args: unknown[]) => sim.api[key](...args)
  // Taro's Alipay request picks `my.request` or the legacy `my.httpRequest` by `my.canIUse('request')`.
  if (env === 'alipay') platform.canIUse = (name: string) => typeof sim.api[name] === 'function'
  // Taro's tt runtime needs nothing else from the global: `processApis(taro, tt, …)` over its members (tt.login
  // among its promisified APIs, options copied through as given: `force` reaches tt.login).
  g[globalName[env]] = platform
  g.getCurrentPages = () => sim.getCurrentPages()
  g.getApp = () => ({ config: setup.tabBar ? { tabBar: { list: setup.tabBar.map((pagePath) => ({ pagePath })) } } : {} })
  // Taro's Alipay runtime redefines navigator.userAgent at load (Node 20 has no navigator).
  if (env === 'alipay' && typeof g.navigator === 'undefined') g.navigator = { userAgent: '' }

  // Registers the platform's initNativeApi hook, which '@tarojs/taro' runs when first imported.
  const runtime: string = `@tarojs/plugin-platform-${env}/dist/runtime.js` // untyped module: a string keeps tsc out
  await import(runtime)
  const Taro = (await import('@tarojs/taro')).default as unknown as Obj
  const adapter = await import('../../platforms/taro/index.js')
  return {
    Taro,
    adapter,
    get sim() {
      return sim
    },
    /** A fresh simulated platform behind the same global. */
    reset(next: SimSetup = {}) {
      setup = next
      sim = simulate(env, next)
      return sim
    },
  }
}
