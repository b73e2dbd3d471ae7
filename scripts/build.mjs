// Builds dist/: ESM + CJS per entry (vite.config.ts, library mode) and declarations (tsc). CommonJS
// consumers get a .d.cts copy of each declaration whose relative imports point at .cjs, so both module
// systems resolve types that match the code they load.
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { build, loadConfigFromFile } from 'vite'

const root = join(dirname(new URL(import.meta.url).pathname), '..')
process.chdir(root)
rmSync('dist', { recursive: true, force: true })

await build({ logLevel: 'warn' })

// Declarations for exactly the public entries (and what they import), from the same list vite builds.
const { config } = await loadConfigFromFile({ command: 'build', mode: 'production' })
const tsconfig = '.tsconfig.build.tmp.json'
writeFileSync(
  tsconfig,
  JSON.stringify({
    extends: './tsconfig.json',
    compilerOptions: { noEmit: false, declaration: true, emitDeclarationOnly: true, outDir: 'dist/types', rootDir: '.', types: [] },
    include: [],
    files: Object.values(config.build.lib.entry),
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

for (const file of walk('dist/types')) {
  if (!file.endsWith('.d.ts')) continue
  const out = join('dist/types-cjs', relative('dist/types', file)).replace(/\.d\.ts$/, '.d.cts')
  mkdirSync(dirname(out), { recursive: true })
  writeFileSync(out, readFileSync(file, 'utf8').replace(/((?:from\s+|import\()['"]\.{1,2}\/[^'"]*?)\.js(['"])/g, '$1.cjs$2'))
}
console.log('built dist/: ' + readdirSync('dist').filter((f) => /\.(c?js)$/.test(f)).join(' '))
