// The package as the registry shows and serves it: `npm pack` lists only what users need, a LICENSE ships,
// package.json says where the repository, home page and issues are (npm turns the README's relative links into
// links into that repository, so each must name a file that exists there), and a CHANGELOG.md ships.
import { existsSync, readFileSync } from 'node:fs'
import { join, posix } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { ROOT, packedPackage } from './helpers/packed.js'
import type { Packed } from './helpers/packed.js'

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
type Target = { types: string; default: string }
const subpaths = Object.entries(pkg.exports as Record<string, { import: Target; require: Target } | string>).filter(
  (e): e is [string, { import: Target; require: Target }] => typeof e[1] !== 'string' && e[0] !== '.',
)
const strip = (p: string) => p.replace(/^\.\//, '')

let packed: Packed
beforeAll(() => {
  packed = packedPackage()
}, 180_000)

describe('npm pack', () => {
  it('lists only what users need: code, declarations, the subpath stubs and the documents', () => {
    const stubs = subpaths.map(([name]) => `${strip(name)}/package.json`)
    const allowed = [
      /^(package\.json|README\.md|README\.zh-CN\.md|LICENSE|CHANGELOG\.md)$/,
      /^dist\/[\w/-]+\.c?js$/,
      /^dist\/types\/[\w/-]+\.d\.ts$/,
      /^dist\/types-cjs\/[\w/-]+\.d\.cts$/,
      /^dist\/miniprogram\/package\.json$/,
    ]
    const unexpected = packed.files.filter((f) => !stubs.includes(f) && !allowed.some((re) => re.test(f)))
    expect(unexpected, 'files users do not need (tests, source maps, build leftovers)').toEqual([])
    for (const f of [...stubs, 'LICENSE', 'README.md', 'CHANGELOG.md', 'package.json']) expect(packed.files).toContain(f)
  })

  it('holds every file that exports, main, module, types, miniprogram and the stubs point at', () => {
    const targets = [
      pkg.main,
      pkg.module,
      pkg.types,
      ...subpaths.flatMap(([, t]) => [t.import.default, t.import.types, t.require.default, t.require.types]),
    ]
    for (const t of [...targets, ...Object.values(pkg.exports['.'] as Record<string, Target>).flatMap((t) => [t.default, t.types])]) {
      expect(packed.files, t).toContain(strip(t))
    }
    expect(packed.files.filter((f) => f.startsWith(`${pkg.miniprogram}/`))).toEqual(
      expect.arrayContaining(['index.js', 'wx.js', 'my.js'].map((f) => `${pkg.miniprogram}/${f}`)),
    )
    for (const [name, target] of subpaths) {
      const stubFile = `${strip(name)}/package.json`
      expect(packed.files, `${name} needs a ${stubFile} stub like wx/package.json, listed in package.json#files`).toContain(stubFile)
      const stub = JSON.parse(readFileSync(join(packed.dir, stubFile), 'utf8'))
      const fromStub = (p: string) => posix.join(strip(name), p)
      for (const field of ['main', 'types']) expect(stub[field], `${stubFile} ${field}`).toBeTypeOf('string')
      for (const field of ['main', 'module', 'types'].filter((f) => f in stub))
        expect(packed.files, `${stubFile} ${field}`).toContain(fromStub(stub[field]))
      // The stub describes the same module as exports' CommonJS condition (or, for wx and my, its copy in the
      // miniprogram folder, which exports-ignorant mini program tools can load).
      expect(fromStub(stub.types), stubFile).toBe(strip(target.require.types))
      expect([strip(target.require.default), `${pkg.miniprogram}/${strip(name)}.js`], stubFile).toContain(fromStub(stub.main))
      if ('module' in stub) expect(fromStub(stub.module), stubFile).toBe(strip(target.import.default))
    }
  })
})

describe('package.json and the documents', () => {
  it('ships the MIT LICENSE that package.json names', () => {
    expect(pkg.license).toBe('MIT')
    expect(readFileSync(join(packed.dir, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} /)
  })

  it('names the repository, its home page and where to report bugs, all in one place', () => {
    const repo = /^git\+(https:\/\/github\.com\/[\w.-]+\/[\w.-]+)\.git$/.exec(pkg.repository?.url)
    expect(pkg.repository.type).toBe('git')
    expect(repo, 'repository.url').not.toBeNull()
    expect(pkg.homepage).toBe(`${repo![1]}#readme`)
    expect(pkg.bugs.url).toBe(`${repo![1]}/issues`)
  })

  it.each(['README.md', 'README.zh-CN.md'])(
    '%s: every relative link names a file in the repository (the registry page links there)',
    (file) => {
      const text = readFileSync(join(ROOT, file), 'utf8')
      const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((href) => !/^(https?:|mailto:|#)/.test(href))
      expect(links.length).toBeGreaterThan(0)
      for (const href of links) expect(existsSync(join(ROOT, href.split('#')[0])), href).toBe(true)
    },
  )

  it('has a CHANGELOG.md with a section for this version or the unreleased one', () => {
    const changelog = readFileSync(join(packed.dir, 'CHANGELOG.md'), 'utf8')
    expect(changelog).toMatch(/^# Changelog\n/)
    expect(changelog).toMatch(new RegExp(`^## (Unreleased|${pkg.version.replace(/\./g, '\\.')})`, 'm'))
  })
})
