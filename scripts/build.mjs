// Builds dist/: ESM + CJS per entry (vite.config.ts, library mode) and declarations (tsc). CommonJS
// consumers get a .d.cts copy of each declaration whose relative imports point at .cjs, so both module
// systems resolve types that match the code they load.
//
// `--out-dir <dir>` builds into another directory instead (relative to the repo root): test/package.test.ts
// builds into a temporary one, so running the tests never replaces the working tree's dist/.
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { build, loadConfigFromFile } from 'vite'
import { writeMiniprogramDist } from './miniprogram-dist.mjs'

const root = join(dirname(new URL(import.meta.url).pathname), '..')
process.chdir(root)

function outDirArgument() {
  const args = process.argv.slice(2)
  const i = args.findIndex((a) => a === '--out-dir' || a.startsWith('--out-dir='))
  if (i < 0) return 'dist'
  const value = args[i].includes('=') ? args[i].slice('--out-dir='.length) : args[i + 1]
  if (!value) throw new Error('--out-dir needs a directory')
  return value
}
const outDir = resolve(root, outDirArgument())
const typesDir = join(outDir, 'types')
rmSync(outDir, { recursive: true, force: true })

await build({ logLevel: 'warn', build: { outDir } })

// Declarations for exactly the public entries (and what they import), from the same list vite builds.
// The temporary tsconfig sits in the output directory, so two builds into different directories never
// share (and delete) each other's.
const { config } = await loadConfigFromFile({ command: 'build', mode: 'production' })
const tsconfig = join(outDir, '.tsconfig.build.tmp.json')
writeFileSync(
  tsconfig,
  JSON.stringify({
    extends: join(root, 'tsconfig.json'),
    compilerOptions: { noEmit: false, declaration: true, emitDeclarationOnly: true, outDir: typesDir, rootDir: root, types: [] },
    include: [],
    files: Object.values(config.build.lib.entry).map((file) => join(root, file)),
  }),
)
try {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', tsconfig], { stdio: 'inherit' })
} finally {
  rmSync(tsconfig)
}

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) yield* walk(p)
    else yield p
  }
}

for (const file of walk(typesDir)) {
  if (!file.endsWith('.d.ts')) continue
  const out = join(outDir, 'types-cjs', relative(typesDir, file)).replace(/\.d\.ts$/, '.d.cts')
  mkdirSync(dirname(out), { recursive: true })
  writeFileSync(out, readFileSync(file, 'utf8').replace(/((?:from\s+|import\()['"]\.{1,2}\/[^'"]*?)\.js(['"])/g, '$1.cjs$2'))
}
// Native mini programs (no bundler) get their own CommonJS folder: see scripts/miniprogram-dist.mjs.
writeMiniprogramDist(outDir)
// tokenrelay/taro/plugin is CommonJS under both conditions (Taro require()s plugins): its ESM twin is never loaded.
rmSync(join(outDir, 'taro/plugin.js'), { force: true })

console.log(
  `built ${relative(root, outDir) || '.'}/: ` +
    readdirSync(outDir)
      .filter((f) => /\.(c?js)$/.test(f))
      .join(' '),
)
