// Bundle, minify and gzip one entry the way an app's bundler would ship it. Used by test/size.test.ts (budgets)
// and by bench/run.ts (the peers' sizes next to ours).
import { build } from 'esbuild'
import type { BuildOptions, Plugin } from 'esbuild'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { entries } from '../vite.config.js'

export const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** Framework SDKs are the app's own copies: never counted in our size. */
export const FRAMEWORK_EXTERNALS = ['@tarojs/*', '@dcloudio/*', 'vue', 'react']

export interface BundleSize {
  name: string
  minifiedBytes: number
  gzipBytes: number
  /** Minified bytes each input file contributes, largest first (from esbuild's metafile). */
  inputs: { path: string; bytes: number }[]
  /** The minified output, for assertions on what was (not) shipped. */
  code: string
}

export interface BundleInput {
  /** A file to bundle, relative to the repository root… */
  entry?: string
  /** …or module source, resolved from the repository root (e.g. `export { x } from 'tokenrelay'`). */
  contents?: string
  external?: string[]
  platform?: BuildOptions['platform']
}

/**
 * What `import … from 'tokenrelay'` and `'tokenrelay/<entry>'` mean inside this repository: the source of that
 * public entry (the `entries` vite builds), not a stale dist/.
 */
const ownEntries: Plugin = {
  name: 'tokenrelay-entries',
  setup(b) {
    b.onResolve({ filter: /^tokenrelay(\/.*)?$/ }, (args) => {
      const name = args.path === 'tokenrelay' ? 'index' : args.path.slice('tokenrelay/'.length)
      const file = entries[name]
      return file ? { path: join(ROOT, file) } : { errors: [{ text: `${args.path} is not a public entry (vite.config.ts entries)` }] }
    })
  },
}

export async function bundleSize(name: string, input: BundleInput): Promise<BundleSize> {
  const result = await build({
    absWorkingDir: ROOT,
    ...(input.entry
      ? { entryPoints: [input.entry] }
      : { stdin: { contents: input.contents || '', resolveDir: ROOT, sourcefile: `${name}.entry.js`, loader: 'js' } }),
    plugins: [ownEntries],
    bundle: true,
    minify: true,
    write: false,
    format: 'esm',
    platform: input.platform || 'neutral',
    // `neutral` sets no main fields; peers published with `module`/`main` only need them to resolve.
    mainFields: ['module', 'main'],
    external: input.external || FRAMEWORK_EXTERNALS,
    metafile: true,
    logLevel: 'silent',
  })
  const code = result.outputFiles[0].text
  const output = Object.values(result.metafile.outputs)[0]
  return {
    name,
    minifiedBytes: Buffer.byteLength(code),
    gzipBytes: gzipSync(code, { level: 9 }).length,
    inputs: Object.entries(output.inputs)
      .map(([path, { bytesInOutput }]) => ({ path, bytes: bytesInOutput }))
      .sort((a, b) => b.bytes - a.bytes),
    code,
  }
}
