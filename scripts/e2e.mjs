// npm run test:e2e — the library as a user's app gets it: packed as a tarball, installed into both
// playgrounds (each with its own lockfile, so each resolves its own framework copy), built for all eight
// outputs, then driven by test/e2e (mini programs under Node, H5 in headless Chromium).
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { findChromium } from './chromium.mjs'

const root = join(import.meta.dirname, '..')
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
const started = Date.now()
const timings = []

function run(label, cmd, args, cwd = root, env = {}) {
  const t = Date.now()
  console.log(`\n== ${label}`)
  execFileSync(cmd, args, { cwd, stdio: 'inherit', env: { ...process.env, ...env } })
  timings.push([label, ((Date.now() - t) / 1000).toFixed(1) + ' s'])
}

// The H5 runs need a Chromium: the system's when one launches, else the npm build (scripts/chromium.mjs).
// Found (and the npm build unpacked) once here, so a missing browser stops the run before the long builds.
const chromium = await findChromium()
console.log(`== chromium (${chromium.source}): ${chromium.executablePath}`)

// 1. Pack (prepack builds dist/).
const packDir = join(root, 'node_modules/.cache/tokenrelay-e2e')
rmSync(packDir, { recursive: true, force: true })
mkdirSync(packDir, { recursive: true })
run('pack tokenrelay', npm, ['pack', '--silent', '--pack-destination', packDir])
const tarball = join(
  packDir,
  readdirSync(packDir).find((f) => f.endsWith('.tgz')),
)

// 2. Each playground: its lockfile, then the tarball without touching the lockfile.
const playgrounds = [
  { dir: 'playground-taro', builds: ['build:weapp', 'build:alipay', 'build:tt', 'build:h5'] },
  { dir: 'playground-uniapp', builds: ['build:mp-weixin', 'build:mp-alipay', 'build:mp-toutiao', 'build:h5'] },
]
for (const { dir, builds } of playgrounds) {
  const cwd = join(root, dir)
  const installed = join(cwd, 'node_modules/.package-lock.json')
  const stale = !existsSync(installed) || statSync(join(cwd, 'package-lock.json')).mtimeMs > statSync(installed).mtimeMs
  // npm ci and the tarball in one install would rewrite the lockfile; --no-save keeps it as committed.
  if (stale) run(`${dir}: npm ci`, npm, ['ci', '--no-audit', '--no-fund', '--loglevel=error'], cwd)
  run(`${dir}: install the packed library`, npm, ['install', '--no-save', '--no-audit', '--no-fund', '--loglevel=error', tarball], cwd)
  for (const script of builds) run(`${dir}: ${script}`, npm, ['run', '--silent', script], cwd)
}

// 3. Drive the eight outputs.
run('e2e suites', process.execPath, [join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--config', 'test/e2e/vitest.config.ts'])

console.log('\n' + timings.map(([l, t]) => `${t.padStart(8)}  ${l}`).join('\n'))
console.log(`e2e total ${((Date.now() - started) / 1000).toFixed(0)} s`)
