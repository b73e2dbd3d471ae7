// @ts-check
// npm run playground [-- uni] [-- --port N] [-- --build]: a playground's H5 output and the reference server on one
// origin, for a person to open in a browser. Builds the output first when there is none (or with --build): the
// packed library installed into the playground, as scripts/e2e.mjs does. Stops on Ctrl+C.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { startServer } from '../playground-server/server.js'
import { startStaticServer } from './static-server.mjs'

const root = join(import.meta.dirname, '..')
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

const PLAYGROUNDS = {
  taro: { name: 'Taro (React)', dir: 'playground-taro', h5: 'dist/h5' },
  uni: { name: 'uni-app (Vue 3)', dir: 'playground-uniapp', h5: 'dist/build/h5' },
}
/** The port the playgrounds' mini program builds call by default (TOKENRELAY_API): this server answers there too. */
const DEFAULT_PORT = 3000

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    port: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    build: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
})
const which = /** @type {'taro' | 'uni'} */ ((positionals[0] || 'taro').replace(/^uniapp$/, 'uni'))
if (values.help || !(which in PLAYGROUNDS)) {
  console.log('usage: npm run playground [-- uni] [-- --port N] [-- --host H] [-- --build]   (taro by default; port 3000, else a free one)')
  process.exit(values.help ? 0 : 2)
}
const playground = PLAYGROUNDS[which]
const cwd = join(root, playground.dir)
const h5 = join(cwd, playground.h5)

/** @param {string} label @param {string} cmd @param {string[]} args @param {string} [dir] */
function run(label, cmd, args, dir = root) {
  console.log(`\n== ${label}`)
  execFileSync(cmd, args, { cwd: dir, stdio: 'inherit' })
}

/** The playground's dependencies, the packed library without touching its lockfile, then its H5 build. */
function build() {
  const installed = join(cwd, 'node_modules/.package-lock.json')
  if (!existsSync(installed) || statSync(join(cwd, 'package-lock.json')).mtimeMs > statSync(installed).mtimeMs) {
    run(`${playground.dir}: npm ci (about a minute or two)`, npm, ['ci', '--no-audit', '--no-fund', '--loglevel=error'], cwd)
  }
  const packDir = join(root, 'node_modules/.cache/tokenrelay-playground')
  rmSync(packDir, { recursive: true, force: true })
  mkdirSync(packDir, { recursive: true })
  run('pack tokenrelay', npm, ['pack', '--silent', '--pack-destination', packDir])
  const tarball = join(packDir, /** @type {string} */ (readdirSync(packDir).find((f) => f.endsWith('.tgz'))))
  run(
    `${playground.dir}: install the packed library`,
    npm,
    ['install', '--no-save', '--no-audit', '--no-fund', '--loglevel=error', tarball],
    cwd,
  )
  run(`${playground.dir}: build the H5 output`, npm, ['run', '--silent', 'build:h5'], cwd)
}

if (values.build || !existsSync(join(h5, 'index.html'))) build()

const reference = await startServer({ port: 0 })
/** @param {number} port */
const serve = (port) =>
  startStaticServer(h5, {
    proxyTo: reference.url,
    port,
    host: values.host,
    // The build's API base is fixed at build time; this origin serves the API too.
    headScript: 'window.__TOKENRELAY_API__ = location.origin',
  })
const wanted = values.port !== undefined ? Number(values.port) : DEFAULT_PORT
let site
try {
  site = await serve(wanted)
} catch (error) {
  if (/** @type {NodeJS.ErrnoException} */ (error).code !== 'EADDRINUSE') throw error
  console.log(`(port ${wanted} is taken: using a free one)`)
  site = await serve(0)
}

console.log(`
tokenrelay playground, ${playground.name} H5: ${site.url}/

  Home: "Run all" sends 10 requests, an upload and a download; the list below shows what tokenrelay did.
  Settings: expiry as HTTP 401 or as body code 99997, "Expire all tokens now", "Revoke alice's refresh tokens".
  Then "Run all" again: one refresh, every call replayed (or, revoked, one trip to the login page).
  The reference server answers on the same origin (/api, /auth, /__stats, /__control); it runs at ${reference.url}.
  Ctrl+C stops both.
`)

let stopping = false
const stop = () => {
  if (stopping) return
  stopping = true
  Promise.all([site.close(), reference.close()]).then(() => process.exit(0))
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
