// dist/miniprogram: the folder package.json#miniprogram names, for native mini programs built without a bundler.
// WeChat DevTools' 构建 npm (miniprogram-ci's packNpmManually) copies it to miniprogram_npm/tokenrelay/, where
// `require('tokenrelay/wx')` finds wx.js; Alipay's IDE reads node_modules itself and reaches the same files
// through the wx/ and my/ package.json stubs. Neither reads `exports`, resolves `.cjs` or offers Node built-ins,
// so the folder holds the CommonJS build of index, auth, wx, my and tt (and the chunks they share) renamed to `.js`, each
// requiring the others by relative path only.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, posix, relative } from 'node:path'

/** Entries a native project can require: the engine, `auth`, and the adapters over a platform global. */
export const MINIPROGRAM_ENTRIES = ['index', 'auth', 'wx', 'my', 'tt']

/**
 * Writes `<outDir>/miniprogram/` from the CommonJS files already built in outDir.
 * @param {string} outDir
 */
export function writeMiniprogramDist(outDir) {
  const target = join(outDir, 'miniprogram')
  rmSync(target, { recursive: true, force: true })
  const queue = MINIPROGRAM_ENTRIES.map((name) => `${name}.cjs`)
  const done = new Set()
  while (queue.length) {
    const file = queue.shift()
    if (done.has(file)) continue
    done.add(file)
    const source = join(outDir, file)
    if (!existsSync(source)) throw new Error(`miniprogram build: ${file} was not built`)
    const code = readFileSync(source, 'utf8')
      .replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n')
      .replace(/require\((["'])(\.{1,2}\/[^"']+)\.cjs\1\)/g, (_, quote, spec) => {
        queue.push(posix.join(posix.dirname(file), `${spec}.cjs`))
        return `require(${quote}${spec}.js${quote})`
      })
    const bare = [...code.matchAll(/require\((["'])([^"'.][^"']*)\1\)/g)].map((m) => m[2])
    if (bare.length) throw new Error(`miniprogram build: ${file} requires ${bare.join(', ')}, which a native mini program cannot load`)
    const out = join(target, file.replace(/\.cjs$/, '.js'))
    mkdirSync(dirname(out), { recursive: true })
    writeFileSync(out, code)
  }
  // The package is "type": "module"; these `.js` files are CommonJS wherever Node-based tools meet them.
  writeFileSync(join(target, 'package.json'), JSON.stringify({ type: 'commonjs' }, null, 2) + '\n')
  return [...done].map((f) => relative(outDir, join(target, f.replace(/\.cjs$/, '.js'))))
}
