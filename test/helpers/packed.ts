// The package as the registry serves it, for tests that install it: scripts/build.mjs --out-dir into a staging
// copy of the package (package.json and its `files`), `npm pack` there, the tarball unpacked the way npm
// installs it. Built once per state of the sources and shared by every test file that asks (a lock directory
// keeps two test processes from building at once), under node_modules/.cache so the unpacked package resolves
// the repository's devDependencies (react, vue, @tarojs/taro) as an app's node_modules would.
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'

export const ROOT = join(import.meta.dirname, '../..')
const CACHE = join(ROOT, 'node_modules/.cache/tokenrelay-packed')
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
/** Another test process may still be installing an older build (the sources changed mid-run): keep it this long. */
const STALE_MS = 30 * 60_000
/** Files npm packs whatever `files` says. */
const ALWAYS_PACKED = ['README.md', 'LICENSE'].filter((f) => existsSync(join(ROOT, f)))

export interface Packed {
  /** The unpacked package: what `node_modules/tokenrelay` holds after `npm install`. */
  dir: string
  /** The `.tgz` file. */
  tarball: string
  /** Paths inside the package, as `npm pack` listed them. */
  files: string[]
}

function* walk(dir: string): Generator<string> {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) yield* walk(p)
    else yield p
  }
}

/** Everything the package is made from: the sources, the build scripts and configuration, the published files. */
function sourceKey(): string {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
  const hash = createHash('sha256')
  const inputs = [
    ...walk(join(ROOT, 'src')),
    ...walk(join(ROOT, 'platforms')),
    ...walk(join(ROOT, 'scripts')),
    ...['package.json', 'vite.config.ts', 'tsconfig.json', ...ALWAYS_PACKED, ...(pkg.files as string[])]
      .map((f) => join(ROOT, f))
      .filter((f) => existsSync(f) && statSync(f).isFile()),
  ].filter((f) => !/\.test(-d)?\.tsx?$/.test(f))
  for (const file of inputs) hash.update(relative(ROOT, file)).update('\0').update(readFileSync(file)).update('\0')
  return hash.digest('hex').slice(0, 16)
}

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)

function build(dir: string): Packed {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
  const stage = join(dir, 'stage')
  execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--out-dir', join(stage, 'dist')], { cwd: ROOT, stdio: 'pipe' })
  for (const file of ['package.json', ...ALWAYS_PACKED, ...(pkg.files as string[]).filter((f) => f !== 'dist')]) {
    cpSync(join(ROOT, file), join(stage, file), { recursive: true })
  }
  // --ignore-scripts: prepack would build again, into the staging copy's own dist/.
  const out = execFileSync(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], {
    cwd: stage,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const [report] = JSON.parse(out) as { filename: string; files: { path: string }[] }[]
  const tarball = join(dir, report.filename)
  execFileSync('tar', ['-xzf', tarball, '-C', dir])
  rmSync(stage, { recursive: true, force: true })
  return { dir: join(dir, 'package'), tarball, files: report.files.map((f) => f.path).sort() }
}

/** The packed and unpacked package for the current sources (built on first use, then reused). */
export function packedPackage(): Packed {
  const key = sourceKey()
  const dir = join(CACHE, key)
  const done = join(dir, 'packed.json')
  const lock = `${dir}.lock`
  mkdirSync(CACHE, { recursive: true })
  while (!existsSync(done)) {
    try {
      mkdirSync(lock)
    } catch {
      // Another test process is building this very state: wait for it (a lock older than 5 minutes is stale).
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 300_000) rmSync(lock, { recursive: true, force: true })
      sleep(250)
      continue
    }
    try {
      if (!existsSync(done)) {
        rmSync(dir, { recursive: true, force: true })
        mkdirSync(dir, { recursive: true })
        writeFileSync(done + '.tmp', JSON.stringify(build(dir)))
        writeFileSync(done, readFileSync(done + '.tmp'))
        // Older states are of no further use once no test run can still be reading them.
        for (const name of readdirSync(CACHE)) {
          const old = join(CACHE, name)
          if (name === key || name.endsWith('.lock') || existsSync(`${old}.lock`)) continue
          if (Date.now() - statSync(old).mtimeMs > STALE_MS) rmSync(old, { recursive: true, force: true })
        }
      }
    } finally {
      rmSync(lock, { recursive: true, force: true })
    }
  }
  return JSON.parse(readFileSync(done, 'utf8')) as Packed
}
