// tokenrelay/uniapp/vite: the entry rewrite, its warning and its error, hook by hook and in a real Vite build.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from 'vite'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { findCallEnd, tokenRelay } from './vite.js'

const MAIN = `import { createSSRApp } from 'vue'
import App from './App.vue'

export function createApp() {
  const app = createSSRApp(App)
  // The library's Vite plugin inserts app.use(TokenRelay, options) right after \`createSSRApp(...)\` above.
  return { app }
}
`
const CONFIG = `export default { baseURL: 'https://api.example.com', refresh: async () => ({ accessToken: 'x' }) }\n`

let root: string
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'tokenrelay-vite-'))
  mkdirSync(join(root, 'src'))
  vi.stubEnv('UNI_INPUT_DIR', '')
})
afterEach(() => {
  rmSync(root, { recursive: true, force: true })
  vi.unstubAllEnvs()
})

const write = (file: string, text: string) => writeFileSync(join(root, file), text)

/** What Vite's configResolved hook gets: the root, the command, Vite's logger. */
const resolved = () => ({ root, command: 'build', logger: { warn: vi.fn() } })

/** The plugin with its hooks bound to a recording context, as Vite would call them. */
function plugin(options?: Parameters<typeof tokenRelay>[0]) {
  const p = tokenRelay(options) as any
  const ctx = {
    warn: vi.fn(),
    error: (message: string): never => {
      throw new Error(message)
    },
  }
  p.configResolved(resolved())
  return {
    ctx,
    buildStart: () => p.buildStart.call(ctx),
    transform: (code: string, file = 'src/main.ts') => p.transform.call(ctx, code, join(root, file)) as { code: string; map: null } | null,
    buildEnd: (error?: Error) => p.buildEnd.call(ctx, error),
  }
}

describe('findCallEnd', () => {
  it('finds the call, not the import, a comment, a string or a declaration', () => {
    const code = `import { createSSRApp } from 'vue' // createSSRApp(x)
/* createSSRApp(y) */ const s = "createSSRApp(z)", t = \`createSSRApp(\${1})\`
function createSSRApp2() {}
const app = createSSRApp(App, { a: ')', b: (1 + 2) }) // tail`
    const end = findCallEnd(code, 'createSSRApp')
    expect(code.slice(0, end).endsWith(`createSSRApp(App, { a: ')', b: (1 + 2) })`)).toBe(true)
  })

  it('also finds Vue.createSSRApp(...) and createSSRApp<T>(...); -1 when there is no call', () => {
    expect(findCallEnd('const a = Vue.createSSRApp(App);', 'createSSRApp')).toBe('const a = Vue.createSSRApp(App)'.length)
    expect(findCallEnd('const a = createSSRApp<P>(App)', 'createSSRApp')).toBe('const a = createSSRApp<P>(App)'.length)
    expect(findCallEnd(`import { createSSRApp } from 'vue'\nexport { createSSRApp }`, 'createSSRApp')).toBe(-1)
    expect(findCallEnd('function createSSRApp(a) { return a }', 'createSSRApp')).toBe(-1)
  })
})

describe('tokenRelay() Vite plugin', () => {
  it('inserts the app.use once, right after createSSRApp(...), importing the config module', () => {
    write('src/tokenrelay.config.ts', CONFIG)
    const p = plugin({ config: 'src/tokenrelay.config.ts' })
    p.buildStart()
    const out = p.transform(MAIN)!
    expect(out.code.match(/\.use\(__tokenrelayPlugin/g)).toHaveLength(1)
    expect(out.code).toContain('const app = createSSRApp(App).use(__tokenrelayPlugin, __tokenrelayConfig)\n')
    expect(out.code).toContain(`import { injectedPlugin as __tokenrelayPlugin } from 'tokenrelay/uniapp';`)
    expect(out.code).toContain(`import __tokenrelayConfig from "./tokenrelay.config.ts";`)
    // Every original line stays on its line number (imports are appended): `map: null` is honest.
    expect(out.code.split('\n').slice(0, MAIN.split('\n').length - 1)).toEqual(
      MAIN.split('\n')
        .slice(0, -1)
        .map((l) => l.replace('createSSRApp(App)', 'createSSRApp(App).use(__tokenrelayPlugin, __tokenrelayConfig)')),
    )
    expect(out.map).toBeNull()
    expect(p.ctx.warn).not.toHaveBeenCalled()
    // Transforming its own output again changes nothing; other modules are left alone.
    expect(p.transform(out.code)).toBeNull()
    expect(p.transform(MAIN, 'src/pages/home/index.ts')).toBeNull()
    p.buildEnd()
    expect(p.ctx.warn).not.toHaveBeenCalled()
  })

  it('finds the default config (src/tokenrelay.config.ts) and main.js, and follows UNI_INPUT_DIR', () => {
    write('src/tokenrelay.config.ts', CONFIG)
    const p = plugin()
    p.buildStart()
    expect(p.transform(MAIN, 'src/main.js')!.code).toContain('from "./tokenrelay.config.ts"')
    mkdirSync(join(root, 'app'))
    write('app/tokenrelay.config.js', CONFIG)
    vi.stubEnv('UNI_INPUT_DIR', join(root, 'app'))
    const q = plugin({ config: 'app/tokenrelay.config' })
    expect(q.transform(MAIN, 'src/main.ts')).toBeNull() // not the entry any more
    expect(q.transform(MAIN, 'app/main.ts')!.code).toContain('from "./tokenrelay.config.js"')
  })

  it('warns, naming the file, when main.ts has no createSSRApp(...) call, and leaves it as is', () => {
    write('src/tokenrelay.config.ts', CONFIG)
    const p = plugin()
    const code = `import { createApp as make } from 'vue'\nimport App from './App.vue'\nexport function createApp() { return { app: make(App) } }\n`
    expect(p.transform(code)).toBeNull()
    expect(p.ctx.warn).toHaveBeenCalledTimes(1)
    // No "[tokenrelay]" or file name in front: Vite and Rollup print the plugin's name and the module there.
    expect(p.ctx.warn.mock.calls[0][0]).toMatch(
      /^no createSSRApp\(\.\.\.\) call found in the app entry, so tokenrelay is NOT installed\. Call it in src\/main\.ts yourself/,
    )
    expect(p.ctx.warn.mock.calls[0][0]).toContain('app.use(TokenRelayPlugin, options)')
  })

  it('warns, naming the file, when main.ts also calls app.use(TokenRelayPlugin, …) itself: two installs, the second replaces the first', () => {
    write('src/tokenrelay.config.ts', CONFIG)
    const p = plugin()
    p.buildStart()
    const manual = (name: string, imported: string) =>
      MAIN.replace('  return { app }', `  app.use(${name}, { baseURL: 'https://api.example.com' })\n  return { app }`) +
      `import { ${imported} } from 'tokenrelay/uniapp'\n`
    expect(p.transform(manual('TokenRelayPlugin', 'TokenRelayPlugin'))).not.toBeNull() // still installed: the manual one replaces it at run time
    expect(p.ctx.warn).toHaveBeenCalledTimes(1)
    expect(p.ctx.warn.mock.calls[0][0]).toMatch(
      /^the app entry calls app\.use\(TokenRelayPlugin, …\) itself.*that app\.use line in src\/main\.ts\.$/,
    )
    expect(p.ctx.warn.mock.calls[0][0]).toContain('src/tokenrelay.config.ts')
    // The deprecated name, renamed on import, counts too.
    p.transform(manual('Relay', 'TokenRelay as Relay'))
    expect(p.ctx.warn).toHaveBeenCalledTimes(2)
    // Words in comments do not (the playground's main.ts explains the plugin that way).
    const commented =
      `// app.use(TokenRelay, config): import { TokenRelay } from 'tokenrelay/uniapp'\n/* app.use(TokenRelay, x) */\n` + MAIN
    p.transform(commented)
    expect(p.ctx.warn).toHaveBeenCalledTimes(2)
  })

  it('fails the build, naming the file, when the config module is missing: once, from configResolved', () => {
    const p = tokenRelay({ config: 'src/auth/tokenrelay.config.ts' }) as any
    expect(() => p.configResolved(resolved())).toThrow(/^\[tokenrelay\] config module src\/auth\/tokenrelay\.config\.ts not found/)
    expect(() => (tokenRelay() as any).configResolved(resolved())).toThrow(
      /^\[tokenrelay\] config module src\/tokenrelay\.config\.ts not found \(the default of tokenRelay\(\)/,
    )
    // Removed during a watch build: the build hooks say so too (Vite and Rollup add the plugin's name).
    write('src/tokenrelay.config.ts', CONFIG)
    const q = plugin()
    rmSync(join(root, 'src/tokenrelay.config.ts'))
    expect(() => q.buildStart()).toThrow(/^config module src\/tokenrelay\.config\.ts not found/)
    expect(() => q.transform(MAIN)).toThrow(/src\/tokenrelay\.config\.ts/)
  })

  it('fails the build, naming the file, when the config module has no default export', () => {
    write('src/tokenrelay.config.ts', "export const config = { baseURL: 'https://api.example.com' }\n")
    expect(() => (tokenRelay() as any).configResolved(resolved())).toThrow(
      '[tokenrelay] config module src/tokenrelay.config.ts has no default export: it needs `export default` the options of app.use(TokenRelayPlugin, options)',
    )
  })

  it('warns about option keys it does not know, with the one probably meant', () => {
    write('src/tokenrelay.config.ts', CONFIG)
    const config = resolved()
    ;(tokenRelay({ mian: 'src/main.ts', confg: 'x' } as never) as any).configResolved(config)
    expect(config.logger.warn.mock.calls).toEqual([
      [
        "[tokenrelay] tokenRelay() in vite.config.ts: unknown option 'mian' (did you mean 'main'?), 'confg' (did you mean 'config'?); it takes config and main.",
      ],
    ])
  })

  it('warns when the entry was never built (a main file somewhere else)', () => {
    write('src/tokenrelay.config.ts', CONFIG)
    const p = plugin()
    p.buildStart()
    p.buildEnd(new Error('the build failed for another reason'))
    expect(p.ctx.warn).not.toHaveBeenCalled() // that error said it all
    p.buildEnd()
    expect(p.ctx.warn.mock.calls[0][0]).toContain('src/main.ts or src/main.js or src/main.uts) was never built')
  })
})

describe('in a real Vite build', () => {
  const lib = (plugins: object[]) =>
    build({
      root,
      logLevel: 'silent',
      configFile: false,
      plugins: plugins as any,
      build: {
        write: false,
        minify: false,
        lib: { entry: join(root, 'src/main.ts'), formats: ['es'], fileName: 'main' },
        rollupOptions: { external: ['vue', 'tokenrelay/uniapp', /\.vue$/] },
      },
    }) as Promise<{ output: { code: string }[] }[] | { output: { code: string }[] }>

  it('bundles main.ts with the app.use and the config module inlined', async () => {
    write('src/main.ts', MAIN)
    write('src/tokenrelay.config.ts', CONFIG)
    const result = await lib([tokenRelay()])
    const code = (Array.isArray(result) ? result[0] : result).output[0].code
    expect(code).toMatch(/createSSRApp\(App\)\.use\(injectedPlugin, /)
    expect(code).toContain('https://api.example.com')
    expect(code).toMatch(/from ["']tokenrelay\/uniapp["']/)
  })

  it('a missing config module fails the build with its name', async () => {
    write('src/main.ts', MAIN)
    await expect(lib([tokenRelay({ config: 'src/nope.ts' })])).rejects.toThrow(/^\[tokenrelay\] config module src\/nope\.ts not found/)
  })

  it('a config module without a default export fails with that, not with the import the plugin generated', async () => {
    write('src/main.ts', MAIN)
    write('src/tokenrelay.config.ts', "export const config = { baseURL: 'https://api.example.com' }\n")
    const error = await lib([tokenRelay()]).catch((e: Error) => e)
    expect(String(error)).toContain('[tokenrelay] config module src/tokenrelay.config.ts has no default export')
    expect(String(error)).not.toContain('is not exported by')
  })
})
