// tokenrelay/taro/plugin with a fake Taro plugin context: what it writes, what it adds to runtimePath,
// how it aliases '@tarojs/taro' on H5, and the errors that stop a build. The real `taro build` (three
// platforms, a missing config file) runs in test/e2e/taro.e2e.ts.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { TaroPlatform, TaroPluginContext } from './plugin.js'
import plugin, { h5ApiSource, hasDefaultExport, resolveConfigModule, runtimeSource, toSource, tokenRelay } from './plugin.js'

let app: string

beforeEach(() => {
  app = mkdtempSync(join(tmpdir(), 'tokenrelay-taro-plugin-'))
  mkdirSync(join(app, 'src'))
  writeFileSync(join(app, 'src/tokenrelay.config.ts'), "export default { baseURL: 'https://api.example.com' }\n")
})
afterEach(() => rmSync(app, { recursive: true, force: true }))

/** The Taro context the plugin sees, and a webpack-chain alias map that keeps insertion order. */
function fakeTaro() {
  const methods: Record<string, ((...args: any[]) => void)[]> = {}
  const chainHooks: ((args: { chain: any }) => void)[] = []
  const aliases = new Map<string, string>()
  const alias = {
    entries: () => (aliases.size ? Object.fromEntries(aliases) : undefined),
    clear: () => aliases.clear(),
    set: (k: string, v: string) => aliases.set(k, v),
    get: (k: string) => aliases.get(k),
  }
  const ctx: TaroPluginContext = {
    paths: { appPath: app },
    registerMethod: ({ name, fn }) => void (methods[name] = [...(methods[name] || []), fn]),
    modifyWebpackChain: (fn) => void chainHooks.push(fn),
  }
  return {
    ctx,
    aliases,
    setupClose: (platform: TaroPlatform) => (methods.onSetupClose || []).forEach((fn) => fn(platform)),
    runChain: () => chainHooks.forEach((fn) => fn({ chain: { resolve: { alias } } })),
  }
}

const cache = () => join(app, 'node_modules/.cache/tokenrelay')

describe('tokenrelay/taro/plugin', () => {
  it('writes a runtime that imports the config module and installs it with the options, then adds it with post:', () => {
    const taro = fakeTaro()
    plugin(taro.ctx, {
      config: 'src/tokenrelay.config.ts',
      options: { loginPage: '/pages/login/index', origins: [/^https:\/\/x\.example$/] },
    })
    const platform: TaroPlatform = { platform: 'weapp', runtimePath: ['@tarojs/plugin-platform-weapp/dist/runtime'], compiler: 'webpack5' }
    taro.setupClose(platform)
    const runtime = join(cache(), 'runtime.weapp.js')
    expect(platform.runtimePath).toEqual(['@tarojs/plugin-platform-weapp/dist/runtime', 'post:' + runtime])
    const code = readFileSync(runtime, 'utf8')
    expect(code).toContain("import { install } from 'tokenrelay/taro'")
    expect(code).toContain(`import config from ${JSON.stringify(join(app, 'src/tokenrelay.config.ts'))}`)
    expect(code).toContain(
      'install(Object.assign({}, options, {"loginPage": "/pages/login/index", "origins": [new RegExp("^https:\\\\/\\\\/x\\\\.example$", "")]}))',
    )
    // Mini program builds do not transpile node_modules: the generated module must be plain ES2017.
    expect(code).not.toMatch(/\?\?|\?\.|=>/)
    // A string runtimePath (some platforms) becomes an array; a second setup does not add it twice.
    const single: TaroPlatform = { platform: 'alipay', runtimePath: '@tarojs/plugin-platform-alipay/dist/runtime' }
    taro.setupClose(single)
    taro.setupClose(single)
    expect(single.runtimePath).toEqual(['@tarojs/plugin-platform-alipay/dist/runtime', 'post:' + join(cache(), 'runtime.alipay.js')])
    expect(taro.aliases.size).toBe(0) // mini programs: no alias
  })

  it('H5: aliases @tarojs/taro (exact match, first) to a wrapper of the module Taro aliased it to', () => {
    const taro = fakeTaro()
    plugin(taro.ctx, { config: 'src/tokenrelay.config.ts' })
    taro.setupClose({ platform: 'h5', runtimePath: ['@tarojs/plugin-platform-h5/dist/runtime'], compiler: 'webpack5' })
    // What the H5 platform's own chain hook did before ours runs.
    taro.aliases.set('@tarojs/components$', '/x/components')
    taro.aliases.set('@tarojs/taro', '/app/node_modules/@tarojs/plugin-platform-h5/dist/runtime/apis/index.js')
    taro.runChain()
    const wrapper = join(cache(), 'h5-api.js')
    expect([...taro.aliases]).toEqual([
      ['@tarojs/taro$', wrapper],
      ['@tarojs/components$', '/x/components'],
      ['@tarojs/taro', '/app/node_modules/@tarojs/plugin-platform-h5/dist/runtime/apis/index.js'],
    ])
    expect(readFileSync(wrapper, 'utf8')).toBe(h5ApiSource('/app/node_modules/@tarojs/plugin-platform-h5/dist/runtime/apis/index.js'))
  })

  it('H5 wrapper: re-exports everything, replaces uploadFile and downloadFile, never imports @tarojs/taro', () => {
    const code = h5ApiSource('C:\\app\\apis\\index.js')
    expect(code).toContain('export * from "C:/app/apis/index.js"')
    expect(code).toContain('export { default } from "C:/app/apis/index.js"')
    expect(code).toContain("export const uploadFile = relayFileApi('uploadFile'")
    expect(code).toContain("export const downloadFile = relayFileApi('downloadFile'")
    expect(code).not.toMatch(/from '@tarojs\/taro'/)
  })

  it('H5 with another runner or without the alias: warns and leaves the build alone', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    try {
      const vite = fakeTaro()
      plugin(vite.ctx, { config: 'src/tokenrelay.config.ts' })
      vite.setupClose({ platform: 'h5', runtimePath: [], compiler: 'vite' })
      vite.runChain()
      expect(vite.aliases.size).toBe(0)
      const bare = fakeTaro()
      plugin(bare.ctx, { config: 'src/tokenrelay.config.ts' })
      bare.setupClose({ platform: 'h5', runtimePath: [], compiler: 'webpack5' })
      bare.runChain()
      expect(bare.aliases.size).toBe(0)
      expect(warn.mock.calls.map((c) => String(c[0]))).toEqual([
        expect.stringContaining('vite runner is not supported on H5'),
        expect.stringContaining("no '@tarojs/taro' alias"),
      ])
    } finally {
      warn.mockRestore()
    }
  })

  it('a missing config file stops the build with a message naming it', () => {
    const taro = fakeTaro()
    plugin(taro.ctx, { config: 'src/missing.config.ts' })
    expect(() => taro.setupClose({ platform: 'weapp', runtimePath: [] })).toThrow(
      /^\[tokenrelay\] config file not found: src\/missing\.config\.ts \(looked for .*\/src\/missing\.config\.ts\)/,
    )
  })

  it('a config file without a default export stops the build with a message naming it', () => {
    writeFileSync(join(app, 'src/named.config.ts'), "// export default is what it needs\nexport const config = { baseURL: 'x' }\n")
    const taro = fakeTaro()
    plugin(taro.ctx, { config: 'src/named.config.ts' })
    expect(() => taro.setupClose({ platform: 'weapp', runtimePath: [] })).toThrow(
      '[tokenrelay] config file src/named.config.ts has no default export: it must `export default` the install() options',
    )
  })

  it('no config option, or options that are not plain data, stop the build', () => {
    const taro = fakeTaro()
    plugin(taro.ctx, {})
    expect(() => taro.setupClose({ platform: 'weapp', runtimePath: [] })).toThrow(/needs the path of your options module/)
    expect(() => plugin(fakeTaro().ctx, { config: 'src/tokenrelay.config.ts', options: [] as never })).toThrow(
      /`options` must be an object/,
    )
    const fn = fakeTaro()
    plugin(fn.ctx, { config: 'src/tokenrelay.config.ts', options: { refresh: () => {} } as never }) // JavaScript configs
    expect(() => fn.setupClose({ platform: 'weapp', runtimePath: [] })).toThrow(
      '[tokenrelay] tokenrelay/taro/plugin: options.refresh is a function; plugin options must be plain data. Put functions in your config module.',
    )
  })

  it('finds the config module without its extension', () => {
    expect(resolveConfigModule(app, 'src/tokenrelay.config')).toBe(join(app, 'src/tokenrelay.config.ts'))
  })

  it.each([
    ['export default { a: 1 }', true],
    ['const c = {}\nexport default c', true],
    ['export { c as default }', true],
    ["export { default } from './other'", true],
    ['module.exports = { a: 1 }', true],
    ['export const c = {}', false],
    ['// export default {}\nexport const c = 1', false],
    ['/* export default {} */ export const c = 1', false],
    ["const url = 'https://x.example' // export default\nexport const c = 1", false],
  ])('hasDefaultExport(%j) is %s', (source, expected) => {
    expect(hasDefaultExport(source)).toBe(expected)
  })

  it('toSource: plain data only, with the path of what is not', () => {
    expect(toSource({ a: [1, 'x', true, null], b: { c: /a\/b/gi } })).toBe(
      '{"a": [1, "x", true, null], "b": {"c": new RegExp("a\\\\/b", "gi")}}',
    )
    expect(() => toSource({ a: [1, new Date(0)] })).toThrow('options.a[1] is a Date')
    expect(() => toSource({ a: undefined })).toThrow('options.a is undefined')
    expect(() => toSource({ n: Infinity })).toThrow('options.n is Infinity')
  })

  /** Runs the generated runtime with `config` as the config module's default export; what install() got. */
  function runRuntime(config: unknown, options: Record<string, unknown> = { loginPage: '/pages/login/index' }) {
    const code = runtimeSource('/app/src/c.ts', 'src/c.ts', options)
    const body = code.replace(/^import .*$/gm, '')
    const installs: unknown[] = []
    const plugins: string[] = []
    const run = new Function('install', 'pluginInstall', 'config', body)
    run(
      (o: unknown) => (installs.push(o), 'relay'),
      (name: string, fn: () => unknown) => (plugins.push(name), fn()),
      config,
    )
    return { code, installs, plugins }
  }

  it("the runtime runs install() as the plugin's (pluginInstall), naming the config module, so a manual install() is reported", () => {
    const { code, installs, plugins } = runRuntime({ baseURL: 'https://a.example', loginPage: '/pages/old' })
    expect(code).toContain("import { pluginInstall } from 'tokenrelay/taro'")
    expect(code).toContain('import config from "/app/src/c.ts"')
    expect(code).not.toMatch(/\?\?|\?\.|=>|\blet\b|\bconst\b/)
    expect(plugins).toEqual(['src/c.ts'])
    expect(installs).toEqual([{ baseURL: 'https://a.example', loginPage: '/pages/login/index' }])
  })

  it('a config module whose default export is a function: called once, at install, for the options', () => {
    let calls = 0
    const { installs } = runRuntime(() => (calls++, { baseURL: 'https://f.example' }))
    expect(calls).toBe(1)
    expect(installs).toEqual([{ baseURL: 'https://f.example', loginPage: '/pages/login/index' }])
  })

  it.each([
    [undefined, 'undefined'],
    ['https://api.example.com', 'string'],
    [() => undefined, 'undefined'],
    [async () => ({ baseURL: 'x' }), 'a promise'],
  ])('a default export that gives no options object (%s) stops the app at launch, naming the module', (config, got) => {
    expect(() => runRuntime(config)).toThrow(
      `[tokenrelay] src/c.ts must export default the install() options: an object, or a function returning one (got ${got})`,
    )
  })

  it('tokenRelay(): the typed entry for config/index.ts `plugins`', () => {
    const options = { config: 'src/tokenrelay.config.ts', options: { loginPage: '/pages/login/index', baseURL: 'https://api.example.com' } }
    expect(tokenRelay(options)).toEqual(['tokenrelay/taro/plugin', options])
    // @ts-expect-error a misspelt install() option is a type error
    tokenRelay({ config: 'c.ts', options: { loginpage: '/pages/login/index' } })
    // @ts-expect-error functions belong in the config module: plugin options are plain data
    tokenRelay({ config: 'c.ts', options: { refresh: async () => ({ accessToken: 'x' }) } })
  })

  it('warns at build time about keys it does not know, with the one probably meant', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    try {
      plugin(fakeTaro().ctx, {
        config: 'src/tokenrelay.config.ts',
        options: { loginpage: '/pages/login/index', baseUrl: 'https://a.example' },
      } as never)
      plugin(fakeTaro().ctx, { config: 'src/tokenrelay.config.ts', option: { loginPage: '/p' } } as never)
      plugin(fakeTaro().ctx, { config: 'src/tokenrelay.config.ts', options: { loginPage: '/p', baseURL: 'https://a.example' } })
      expect(warn.mock.calls.map((c) => c[0])).toEqual([
        "[tokenrelay] tokenrelay/taro/plugin: unknown install() option 'loginpage' (did you mean 'loginPage'?), 'baseUrl' (did you mean 'baseURL'?) in `options` (config/index.ts): install() ignores it.",
        "[tokenrelay] tokenrelay/taro/plugin: unknown plugin option 'option' (did you mean 'options'?) in config/index.ts; it takes config and options.",
      ])
    } finally {
      warn.mockRestore()
    }
  })
})
