// The package as users install it: the build emits ESM, CJS and types for every entry, they load, and
// publint finds nothing. scripts/build.mjs --out-dir builds into a temporary package directory (the build
// plus package.json and the other files it publishes), so a test run never touches the working tree's dist/.
import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { publint } from 'publint'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = join(import.meta.dirname, '..')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
/** The temporary package: its dist/ freshly built, beside copies of package.json and its other files. */
let pkgDir: string
type Target = { types: string; default: string }
const exportsMap = Object.entries(pkg.exports as Record<string, { import: Target; require: Target } | string>).filter(
  (e): e is [string, { import: Target; require: Target }] => typeof e[1] !== 'string',
)

beforeAll(() => {
  // Inside the repo's node_modules/, so entries over react or vue resolve them as an installed package would.
  const cache = join(root, 'node_modules/.cache')
  mkdirSync(cache, { recursive: true })
  pkgDir = mkdtempSync(join(cache, 'tokenrelay-package-test-'))
  execFileSync(process.execPath, [join(root, 'scripts/build.mjs'), '--out-dir', join(pkgDir, 'dist')], { cwd: root, stdio: 'pipe' })
  for (const file of ['package.json', ...(pkg.files as string[]).filter((f) => f !== 'dist')]) cpSync(join(root, file), join(pkgDir, file))
}, 120_000)

afterAll(() => {
  if (pkgDir) rmSync(pkgDir, { recursive: true, force: true })
})

describe('npm run build', () => {
  it.each(exportsMap)('%s has ESM, CJS and both kinds of declarations', async (name, target) => {
    for (const file of [target.import.default, target.import.types, target.require.default, target.require.types]) {
      expect(existsSync(join(pkgDir, file)), file).toBe(true)
    }
    const esmFile = join(pkgDir, target.import.default)
    const cjsFile = join(pkgDir, target.require.default)
    // Entries over a framework SDK (Taro, uni) only run inside that framework's build: check their syntax
    // and compare export names statically instead of executing them.
    if (/from\s*["']@(tarojs|dcloudio)\//.test(readFileSync(esmFile, 'utf8'))) {
      for (const file of [esmFile, cjsFile]) execFileSync(process.execPath, ['--check', file])
      const esmNames = [...readFileSync(esmFile, 'utf8').matchAll(/export\s*\{([^}]*)\}/g)]
        .flatMap((m) => m[1].split(','))
        .map((part) =>
          part
            .trim()
            .split(/\s+as\s+/)
            .pop()!,
        )
        .filter(Boolean)
      const cjsNames = [...readFileSync(cjsFile, 'utf8').matchAll(/exports\.(\w+)\s*=/g)].map((m) => m[1])
      expect(esmNames.length, name).toBeGreaterThan(0)
      expect(esmNames.sort()).toEqual([...new Set(cjsNames)].sort())
      return
    }
    const esm = await import(pathToFileURL(esmFile).href)
    const cjs = createRequire(import.meta.url)(cjsFile)
    expect(Object.keys(esm).sort()).toEqual(Object.keys(cjs).sort())
    expect(Object.keys(esm).length).toBeGreaterThan(0)
  })

  it('emits no syntax newer than ES2017 (mini program builds do not transpile node_modules)', () => {
    for (const [, target] of exportsMap) {
      for (const file of [target.import.default, target.require.default]) {
        const code = readFileSync(join(pkgDir, file), 'utf8')
        expect(code, file).not.toMatch(/\?\?|\?\.[\w([]/)
      }
    }
  })

  it('publint finds nothing', async () => {
    const { messages } = await publint({ pkgDir, level: 'suggestion' })
    expect(messages).toEqual([])
  })

  it('has no runtime dependencies', () => {
    expect(pkg.dependencies ?? {}).toEqual({})
  })
})
