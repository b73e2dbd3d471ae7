/// <reference types="node" />
// tokenrelay/uniapp/vite: runs in Node, inside `vite.config.ts`. Imports nothing from the runtime entry (no 'vue').
import { existsSync, readFileSync, statSync } from 'node:fs'
import { dirname, isAbsolute, relative, resolve } from 'node:path'
import { hasDefaultExport, unknownKeys } from '../shared/options.js'

export interface TokenRelayViteOptions {
  /**
   * Module whose default export is the options of `app.use(TokenRelayPlugin, options)` (functions allowed:
   * `refresh`, `exchange`…). Relative to the Vite root.
   * @default 'src/tokenrelay.config.ts'
   */
  config?: string
  /**
   * The app's entry, where `createSSRApp(...)` is called. Relative to the Vite root.
   * @default main.ts (or main.js, main.uts) in uni's input directory (`src/` in CLI projects)
   */
  main?: string
}

/** What the plugin needs from Vite/Rollup's plugin context (kept small so tests can pass their own). */
interface Context {
  warn(message: string): void
  error(message: string): never
}

/**
 * The plugin object, written out instead of Vite's `Plugin` type: a project's Vite may be 4, 5 or 8, and
 * under CommonJS resolution Vite 5's types (`index.d.cts`) export no `Plugin` at all. Structurally it is a
 * Vite (and Rollup/Rolldown) plugin, so `plugins: [uni(), tokenRelay()]` type-checks against any of them.
 */
export interface TokenRelayVitePlugin {
  name: string
  enforce: 'pre'
  configResolved(config: { root: string; command: string; logger?: { warn(message: string): void } }): void
  buildStart(): void
  transform(code: string, id: string): { code: string; map: null } | null
  buildEnd(error?: Error): void
}

const KEYS = ['config', 'main']
const PLUGIN = '__tokenrelayPlugin'
const CONFIG = '__tokenrelayConfig'
const MODULE = 'tokenrelay/uniapp'
const EXTENSIONS = ['', '.ts', '.js', '.mts', '.mjs', '.uts']

const slash = (p: string) => p.replace(/\\/g, '/')
const isFile = (p: string) => existsSync(p) && statSync(p).isFile()

/**
 * Skips what is not code (comments, strings, template literals) and finds the first call `name(...)`:
 * returns the index just past its closing parenthesis. `import { createSSRApp } from 'vue'` and the words
 * in a comment do not count; `Vue.createSSRApp(App)` and `createSSRApp<Props>(App)` do.
 * @internal exported for tests
 */
export function findCallEnd(code: string, name: string): number {
  const n = code.length
  /** Index past the comment, string or template literal starting at i, or i when there is none. */
  const skip = (i: number): number => {
    const c = code[i]
    const next = code[i + 1]
    if (c === '/' && next === '/') {
      const end = code.indexOf('\n', i)
      return end < 0 ? n : end
    }
    if (c === '/' && next === '*') {
      const end = code.indexOf('*/', i + 2)
      return end < 0 ? n : end + 2
    }
    if (c === '"' || c === "'" || c === '`') {
      let j = i + 1
      while (j < n && code[j] !== c) {
        if (code[j] === '\\') j++
        else if (c === '`' && code[j] === '$' && code[j + 1] === '{') j = balanced(j + 1, '{', '}') - 1
        j++
      }
      return j + 1
    }
    return i
  }
  /** From an opening bracket at i: index past its match. */
  const balanced = (i: number, open: string, close: string): number => {
    let depth = 0
    let j = i
    while (j < n) {
      const k = skip(j)
      if (k !== j) {
        j = k
        continue
      }
      if (code[j] === open) depth++
      else if (code[j] === close && --depth === 0) return j + 1
      j++
    }
    return -1
  }
  const ident = /[\w$]/
  let i = 0
  while (i < n) {
    const k = skip(i)
    if (k !== i) {
      i = k
      continue
    }
    if (ident.test(code[i]) && (i === 0 || !ident.test(code[i - 1]))) {
      let j = i
      while (j < n && ident.test(code[j])) j++
      if (code.slice(i, j) === name && !/\bfunction\s*$/.test(code.slice(Math.max(0, i - 20), i))) {
        let p = j
        while (/\s/.test(code[p] || '')) p++
        if (code[p] === '<') {
          p = balanced(p, '<', '>')
          if (p < 0) return -1
          while (/\s/.test(code[p] || '')) p++
        }
        if (code[p] === '(') return balanced(p, '(', ')')
      }
      i = j
      continue
    }
    i++
  }
  return -1
}

/** `code` with its comments blanked out (strings and template literals kept): what the code says, not its notes. */
function withoutComments(code: string): string {
  let out = ''
  let i = 0
  while (i < code.length) {
    const c = code[i]
    if (c === '/' && (code[i + 1] === '/' || code[i + 1] === '*')) {
      const line = code[i + 1] === '/'
      const end = line ? code.indexOf('\n', i) : code.indexOf('*/', i + 2)
      const stop = end < 0 ? code.length : line ? end : end + 2
      out += code.slice(i, stop).replace(/[^\n]/g, ' ')
      i = stop
    } else if (c === '"' || c === "'" || c === '`') {
      let j = i + 1
      while (j < code.length && code[j] !== c) j += code[j] === '\\' ? 2 : 1
      out += code.slice(i, j + 1)
      i = j + 1
    } else {
      out += c
      i++
    }
  }
  return out
}

/**
 * The name under which `code` calls `app.use(…)` with tokenrelay's Vue plugin itself (`TokenRelayPlugin`, or
 * its old name `TokenRelay`, as imported from tokenrelay/uniapp), if it does.
 * @internal exported for tests
 */
export function manualUse(code: string): string | undefined {
  const text = withoutComments(code)
  const imports = /import\s*\{([^}]*)\}\s*from\s*['"]tokenrelay\/uniapp['"]/g
  for (let m = imports.exec(text); m; m = imports.exec(text)) {
    for (const spec of m[1].split(',')) {
      const [imported, local = imported] = spec.trim().split(/\s+as\s+/)
      if (
        (imported === 'TokenRelayPlugin' || imported === 'TokenRelay') &&
        new RegExp(`\\.use\\(\\s*${local.replace(/\$/g, '\\$')}\\s*[,)]`).test(text)
      )
        return imported
    }
  }
}

/**
 * Vite plugin for uni-app: installs tokenrelay in the app's entry, so `src/main.ts` stays as generated.
 * It rewrites `createSSRApp(App)` into `createSSRApp(App).use(…, config)` (tokenrelay's Vue plugin, with
 * `config` the default export of your config module), and warns (naming the file) when it finds no
 * `createSSRApp(...)`, or when the entry also calls `app.use(TokenRelayPlugin, …)` itself: that second
 * install replaces the first at run time. A missing config module fails the build.
 * @example
 * // vite.config.ts
 * import uni from '@dcloudio/vite-plugin-uni'
 * import tokenRelay from 'tokenrelay/uniapp/vite'
 * export default defineConfig({ plugins: [uni(), tokenRelay({ config: 'src/tokenrelay.config.ts' })] })
 */
export function tokenRelay(options: TokenRelayViteOptions = {}): TokenRelayVitePlugin {
  let root = process.cwd()
  let building = false
  let seen = false
  const inputDir = () => process.env.UNI_INPUT_DIR || resolve(root, 'src')
  const show = (file: string) => slash(relative(root, file)) || file
  const mains = () => (options.main ? [resolve(root, options.main)] : ['main.ts', 'main.js', 'main.uts'].map((f) => resolve(inputDir(), f)))
  const configFile = () => {
    const given = options.config ? resolve(root, options.config) : resolve(inputDir(), 'tokenrelay.config.ts')
    for (const ext of EXTENSIONS) if (isFile(given + ext)) return { given, file: given + ext }
    return { given, file: undefined }
  }
  /** What is wrong with the config module, if anything: the message that stops the build. */
  const configProblem = (): { problem?: string; file?: string } => {
    const { given, file } = configFile()
    if (!file) {
      return {
        problem:
          `config module ${show(given)} not found (${options.config ? `tokenRelay({ config: '${options.config}' })` : 'the default of tokenRelay()'} in vite.config.ts). ` +
          `Create it with \`export default { baseURL, refresh }\` (the options of app.use(TokenRelayPlugin, options)) or fix the path.`,
      }
    }
    // Else the entry's generated `import config from …` fails with Rollup's '"default" is not exported by …,
    // imported by src/main.ts', about an import the user never wrote.
    if (!hasDefaultExport(readFileSync(file, 'utf8'))) {
      return {
        problem:
          `config module ${show(file)} has no default export: it needs \`export default\` the options of app.use(TokenRelayPlugin, options) ` +
          `(e.g. \`export default { baseURL, refresh }\`).`,
      }
    }
    return { file }
  }
  // Rollup and Vite both put the plugin's name (tokenrelay:uniapp) in front of what a build hook reports: no prefix of our own.
  const requireConfig = (ctx: Context) => {
    const { problem, file } = configProblem()
    if (problem) ctx.error(problem)
    return file!
  }

  return {
    name: 'tokenrelay:uniapp',
    // Before uni's own entry rewrite, on the code as written (TypeScript included).
    enforce: 'pre',
    configResolved(config) {
      root = config.root
      building = config.command === 'build'
      const warn = (message: string) => (config.logger ? config.logger.warn(message) : console.warn(message))
      const unknown = unknownKeys(options, KEYS)
      if (unknown.length)
        warn(`[tokenrelay] tokenRelay() in vite.config.ts: unknown option ${unknown.join(', ')}; it takes ${KEYS.join(' and ')}.`)
      // Checked here first: an error thrown from this Vite hook is printed as it is, once (a build hook's gets
      // the plugin's name twice, from Vite and from Rollup).
      const { problem } = configProblem()
      if (problem) throw new Error(`[tokenrelay] ${problem}`)
    },
    buildStart() {
      seen = false
      requireConfig(this as unknown as Context)
    },
    transform(code, id) {
      const file = slash(id.split('?')[0])
      if (!mains().some((m) => slash(m) === file)) return null
      seen = true
      const ctx = this as unknown as Context
      const config = requireConfig(ctx)
      const where = show(file)
      if (code.indexOf(CONFIG) >= 0) return null
      const end = findCallEnd(code, 'createSSRApp')
      // Rollup puts the module's name in front of a transform hook's warning: the messages start with what happened.
      if (end < 0) {
        ctx.warn(
          `no createSSRApp(...) call found in the app entry, so tokenrelay is NOT installed. ` +
            `Call it in ${where} yourself: import { TokenRelayPlugin } from '${MODULE}', then app.use(TokenRelayPlugin, options) after createSSRApp(App).`,
        )
        return null
      }
      const manual = manualUse(code)
      if (manual) {
        ctx.warn(
          `the app entry calls app.use(${manual}, …) itself, and tokenRelay() in vite.config.ts installs tokenrelay there too ` +
            `(with ${show(config)}): the second install replaces the first, whose options no longer apply. Keep one: remove tokenRelay() from vite.config.ts, or that app.use line in ${where}.`,
        )
      }
      let spec = slash(relative(dirname(file), config))
      if (!spec.startsWith('.') && !isAbsolute(spec)) spec = './' + spec
      // Chained, so it works whatever surrounds the call (`const app = …`, `return { app: … }`), and appended
      // imports (hoisted anyway) keep every line where it was: `map: null` keeps the source map valid.
      const out =
        code.slice(0, end) +
        `.use(${PLUGIN}, ${CONFIG})` +
        code.slice(end) +
        `\nimport { injectedPlugin as ${PLUGIN} } from '${MODULE}';\nimport ${CONFIG} from ${JSON.stringify(spec)};\n`
      return { code: out, map: null }
    },
    buildEnd(error) {
      // A failed build (a missing config, say) has already said why.
      if (building && !seen && !error) {
        ;(this as unknown as Context).warn(
          `the app entry (${mains().map(show).join(' or ')}) was never built, so tokenrelay is NOT installed: set tokenRelay({ main }) in vite.config.ts.`,
        )
      }
    },
  }
}

export default tokenRelay
