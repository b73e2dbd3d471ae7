// tokenrelay/taro/plugin: the build-time half of the Taro integration (Node, CommonJS: Taro loads CLI
// plugins with require()). The run-time half is `tokenrelay/taro` (install) and, on H5,
// `tokenrelay/taro/h5-api`.
//
//   // config/index.ts
//   plugins: [['tokenrelay/taro/plugin', { config: 'src/tokenrelay.config.ts', options: { loginPage: '/pages/login/index' } }]]
//
// On every build it writes a small runtime module that imports the app's config module and calls
// install(), and adds it to the platform's runtimePath with the `post:` prefix: Taro's app entry imports
// it after the framework runtime and before the app's own code (app.ts, every page). On H5 it also
// aliases '@tarojs/taro' (exact match) to a generated copy of Taro's H5 API module whose uploadFile and
// downloadFile go through the relay (the H5 build turns `Taro.uploadFile(...)` into imports from that
// module, which no run-time patch reaches).

import type { PlainInstallOptions } from '../shared/options.js'
import { INSTALL_OPTIONS, hasDefaultExport, unknownKeys } from '../shared/options.js'

export { hasDefaultExport }

/** Options of `['tokenrelay/taro/plugin', { … }]` in config/index.ts: write them with `tokenRelay({ … })`. */
export interface TaroPluginOptions {
  /**
   * The module whose default export is the options for `install()` from `tokenrelay/taro` (functions
   * allowed: refresh, exchange, isExpired…), or a function returning them (called once, at install), relative
   * to the project root.
   * @example config: 'src/tokenrelay.config.ts'
   */
  config: string
  /**
   * More install() options, merged over the config module's. They are written into the generated
   * runtime as code, so only plain data: strings, numbers, booleans, null, arrays, objects, RegExps.
   * @example options: { loginPage: '/pages/login/index' }
   */
  options?: PlainInstallOptions
}

const KEYS = ['config', 'options']

/**
 * The plugin's entry in config/index.ts `plugins`, typed: `tokenRelay({ config, options })` is
 * `['<this plugin>', { config, options }]`, and a misspelt option (`loginpage`, `baseUrl`) is a type error.
 * @example
 * // config/index.ts
 * import { tokenRelay } from 'tokenrelay/taro/plugin'
 * plugins: [tokenRelay({ config: 'src/tokenrelay.config.ts', options: { loginPage: '/pages/login/index' } })]
 */
export function tokenRelay(options: TaroPluginOptions): [string, TaroPluginOptions] {
  // This file, as Taro will require() it; the package name where there is no __filename (tests).
  return [typeof __filename === 'string' && /plugin\.c?js$/.test(__filename) ? __filename : NAME, options]
}

/** The part of Taro's plugin context (`IPluginContext` of @tarojs/service) this plugin uses. */
export interface TaroPluginContext {
  paths: { appPath: string }
  registerMethod(method: { name: string; fn: (...args: any[]) => void }): void
  modifyWebpackChain(fn: (args: { chain: any }) => void): void
}

/** The part of Taro's platform object (`TaroPlatformBase` / `TaroPlatformWeb`) handed to onSetupClose. */
export interface TaroPlatform {
  platform?: string
  runtimePath?: string | string[]
  compiler?: string
}

type Fs = typeof import('node:fs')
type Path = typeof import('node:path')

// Node built-ins through the CommonJS `require` this file runs with, not `import`: a static import of
// 'node:fs' would make every bundle of the package's entries (size checks, bundlers probing exports)
// try to resolve Node modules. This file only ever runs in Node, inside the Taro CLI.
const nodeRequire: ((id: string) => unknown) | undefined = typeof require === 'function' ? require : undefined
function node(): { fs: Fs; path: Path } {
  if (!nodeRequire) throw new Error('[tokenrelay] tokenrelay/taro/plugin runs in the Taro CLI (Node, CommonJS)')
  return { fs: nodeRequire('node:fs') as Fs, path: nodeRequire('node:path') as Path }
}

const NAME = 'tokenrelay/taro/plugin'
const USAGE = `plugins: [['${NAME}', { config: 'src/tokenrelay.config.ts' }]]`
const EXTENSIONS = ['.ts', '.js', '.mts', '.mjs', '.tsx', '.jsx']
const TARO = '@tarojs/taro'

/** Forward slashes: the paths end up inside generated `import '…'` statements. */
const slash = (p: string) => p.replace(/\\/g, '/')

/**
 * Finds the config module (as given, or with a script extension added) and checks that it has a default
 * export. Throws an Error naming the file otherwise: Taro stops the build with it.
 */
export function resolveConfigModule(appPath: string, config: unknown): string {
  const { fs, path } = node()
  if (typeof config !== 'string' || !config) {
    throw new Error(`[tokenrelay] ${NAME} needs the path of your options module: ${USAGE}`)
  }
  const base = path.resolve(appPath, config)
  const file = [base, ...EXTENSIONS.map((ext) => base + ext)].find((f) => fs.existsSync(f) && fs.statSync(f).isFile())
  if (!file) {
    throw new Error(
      `[tokenrelay] config file not found: ${config} (looked for ${slash(base)}). Create it with \`export default { baseURL, refresh, exchange }\` or fix \`config\` in ${USAGE}`,
    )
  }
  if (!hasDefaultExport(fs.readFileSync(file, 'utf8'))) {
    throw new Error(
      `[tokenrelay] config file ${config} has no default export: it must \`export default\` the install() options (e.g. \`export default { baseURL, refresh, exchange }\`)`,
    )
  }
  return file
}

/** Plain data as JavaScript source; anything else (functions, class instances…) throws with its path. */
export function toSource(value: unknown, where = 'options'): string {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value)
  if (typeof value === 'number' && isFinite(value)) return String(value)
  if (value instanceof RegExp) return `new RegExp(${JSON.stringify(value.source)}, ${JSON.stringify(value.flags)})`
  if (Array.isArray(value)) return `[${value.map((v, i) => toSource(v, `${where}[${i}]`)).join(', ')}]`
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const entries = Object.keys(value).map(
      (k) => `${JSON.stringify(k)}: ${toSource((value as Record<string, unknown>)[k], `${where}.${k}`)}`,
    )
    return `{${entries.join(', ')}}`
  }
  const kind =
    typeof value === 'function'
      ? 'a function'
      : typeof value === 'number'
        ? String(value)
        : value && typeof value === 'object'
          ? `a ${(value.constructor && value.constructor.name) || 'non-plain object'}`
          : String(value)
  throw new Error(`[tokenrelay] ${NAME}: ${where} is ${kind}; plugin options must be plain data. Put functions in your config module.`)
}

/**
 * The module added to runtimePath: the app's config + the plugin's options → install(), run as the
 * plugin's (`pluginInstall`), so a manual install() in app code is reported as replacing it. ES2017, ESM.
 * A config module whose default export is a function is called once, here, for the options.
 */
export function runtimeSource(configFile: string, configName: string, options: Record<string, unknown>): string {
  const wrong = `[tokenrelay] ${configName} must export default the install() options: an object, or a function returning one`
  return `// Generated by ${NAME} on every build (do not edit): installs tokenrelay before any app code runs.
import { install } from 'tokenrelay/taro'
import { pluginInstall } from 'tokenrelay/taro'
import config from ${JSON.stringify(slash(configFile))}

pluginInstall(${JSON.stringify(configName)}, function () {
  var options = typeof config === 'function' ? config() : config
  if (!options || typeof options !== 'object' || typeof options.then === 'function') {
    throw new Error(${JSON.stringify(wrong)} + ' (got ' + (options && typeof options.then === 'function' ? 'a promise' : typeof options) + ')')
  }
  return install(Object.assign({}, options, ${toSource(options)}))
})
`
}

/**
 * What '@tarojs/taro' resolves to on H5 with the plugin: Taro's H5 API module, re-exported whole, with
 * uploadFile and downloadFile through the relay. Taro's own functions are looked up at call time (the H5
 * API module and @tarojs/router import each other, so they may not be initialised yet when this runs).
 */
export function h5ApiSource(apiModule: string): string {
  const api = JSON.stringify(slash(apiModule))
  return `// Generated by ${NAME} for H5 builds (do not edit): Taro's H5 API module with uploadFile/downloadFile
// through tokenrelay. The build aliases '${TARO}' to this file; the original is ${api}.
import { uploadFile as taroUploadFile, downloadFile as taroDownloadFile } from ${api}
import { relayFileApi } from 'tokenrelay/taro/h5-api'

export * from ${api}
export { default } from ${api}
export const uploadFile = relayFileApi('uploadFile', function (options) { return taroUploadFile(options) })
export const downloadFile = relayFileApi('downloadFile', function (options) { return taroDownloadFile(options) })
`
}

/** Writes `file` only when its content changed (keeps watch mode from rebuilding for nothing). */
function write(file: string, content: string): void {
  const { fs, path } = node()
  fs.mkdirSync(path.dirname(file), { recursive: true })
  if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === content) return
  fs.writeFileSync(file, content)
}

/** Makes `key` the first alias: enhanced-resolve tries aliases in order and Taro's '@tarojs/taro' also matches. */
function aliasFirst(
  alias: { entries(): Record<string, unknown> | undefined; clear(): void; set(k: string, v: unknown): void },
  key: string,
  value: string,
) {
  const rest = { ...(alias.entries() || {}) }
  delete rest[key]
  alias.clear()
  alias.set(key, value)
  for (const k of Object.keys(rest)) alias.set(k, rest[k])
}

export default function tokenrelayTaroPlugin(ctx: TaroPluginContext, pluginOptions: Partial<TaroPluginOptions> = {}): void {
  const { config, options = {} } = pluginOptions || {}
  if (!options || typeof options !== 'object' || Array.isArray(options)) {
    throw new Error(`[tokenrelay] ${NAME}: \`options\` must be an object of install() options, e.g. { loginPage: '/pages/login/index' }`)
  }
  // Unknown keys would pass silently: install() ignores them.
  const unknown = unknownKeys(pluginOptions, KEYS)
  if (unknown.length)
    console.warn(`[tokenrelay] ${NAME}: unknown plugin option ${unknown.join(', ')} in config/index.ts; it takes ${KEYS.join(' and ')}.`)
  const unknownInstall = unknownKeys(options, INSTALL_OPTIONS)
  if (unknownInstall.length) {
    console.warn(
      `[tokenrelay] ${NAME}: unknown install() option ${unknownInstall.join(', ')} in \`options\` (config/index.ts): install() ignores it.`,
    )
  }

  ctx.registerMethod({
    name: 'onSetupClose',
    fn(platform: TaroPlatform) {
      const { path } = node()
      const appPath = ctx.paths.appPath
      const configFile = resolveConfigModule(appPath, config)
      const name = platform.platform || process.env.TARO_ENV || 'app'
      const cacheDir = path.join(appPath, 'node_modules', '.cache', 'tokenrelay')
      const runtime = path.join(cacheDir, `runtime.${name}.js`)
      write(runtime, runtimeSource(configFile, String(config), options))

      const entry = 'post:' + slash(runtime)
      const paths = Array.isArray(platform.runtimePath) ? platform.runtimePath : platform.runtimePath ? [platform.runtimePath] : []
      if (paths.indexOf(entry) < 0) platform.runtimePath = paths.concat(entry)

      if (name !== 'h5') return
      if (platform.compiler && platform.compiler !== 'webpack5') {
        console.warn(
          `[tokenrelay] ${NAME}: the ${platform.compiler} runner is not supported on H5 yet: Taro.uploadFile/downloadFile are not refreshed there (Taro.request is).`,
        )
        return
      }
      // Registered here, after the H5 platform registered its own chain changes, so this one runs last.
      ctx.modifyWebpackChain(({ chain }) => {
        const alias = chain.resolve.alias
        const apiModule = alias.get(TARO)
        if (typeof apiModule !== 'string') {
          console.warn(
            `[tokenrelay] ${NAME}: no '${TARO}' alias in this H5 build: Taro.uploadFile/downloadFile are not refreshed (Taro.request is).`,
          )
          return
        }
        const wrapper = path.join(cacheDir, 'h5-api.js')
        write(wrapper, h5ApiSource(apiModule))
        aliasFirst(alias, TARO + '$', wrapper)
      })
    },
  })
}
