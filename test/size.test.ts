// Size ceilings, enforced in `npm test` (and printed by `npm run size`): what an app ships for the README's
// import of each adapter, and each public entry whole, bundled the way an app's bundler ships us (esbuild
// --bundle --minify, gzip -9; framework SDKs external). Each ceiling is the size measured on MEASURED rounded up
// to the next 128 B. Growing past one fails here: shrink the code, or raise the ceiling with a line in
// CHANGELOG.md saying what the bytes buy (a test below holds every ceiling to such a line). Both READMEs show
// this table; a test keeps them equal to it.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { bundleSize } from '../bench/bundle-size.js'
import type { BundleSize } from '../bench/bundle-size.js'
import { entries } from '../vite.config.js'

const MEASURED = '2026-12-04'

interface Ceiling {
  /** The import an app writes, or a public entry bundled whole. */
  what: { import: string; from: string } | { entry: string }
  /** gzip -9 bytes. */
  bytes: number
}

const CEILINGS: Ceiling[] = [
  { what: { import: 'install', from: 'tokenrelay/wx' }, bytes: 8960 },
  { what: { import: 'install', from: 'tokenrelay/my' }, bytes: 9088 },
  { what: { import: 'install', from: 'tokenrelay/tt' }, bytes: 8960 },
  { what: { import: 'install', from: 'tokenrelay/taro' }, bytes: 10496 },
  { what: { import: 'install', from: 'tokenrelay/uniapp' }, bytes: 10496 },
  { what: { import: 'createTokenRelay', from: 'tokenrelay' }, bytes: 5888 },
  { what: { entry: 'index' }, bytes: 6784 },
  { what: { entry: 'auth' }, bytes: 1920 },
  { what: { entry: 'wx' }, bytes: 8960 },
  { what: { entry: 'my' }, bytes: 9088 },
  { what: { entry: 'tt' }, bytes: 8960 },
  { what: { entry: 'taro' }, bytes: 10752 },
  { what: { entry: 'taro/plugin' }, bytes: 2816 },
  { what: { entry: 'taro/h5-api' }, bytes: 1280 },
  { what: { entry: 'react' }, bytes: 768 },
  { what: { entry: 'uniapp' }, bytes: 11136 },
  { what: { entry: 'uniapp/vite' }, bytes: 2560 },
]

/** Build-time tools (the Taro CLI plugin, the Vite plugin) run in Node: Node built-ins stay external. */
const BUILD_TIME = /\/(plugin|vite)$/
const root = join(import.meta.dirname, '..')

const specifier = (entry: string) => (entry === 'index' ? 'tokenrelay' : `tokenrelay/${entry}`)
function label(c: Ceiling): string {
  return 'entry' in c.what ? specifier(c.what.entry) : `import { ${c.what.import} } from '${c.what.from}'`
}

async function measure(c: Ceiling): Promise<BundleSize> {
  if ('entry' in c.what) {
    return bundleSize(label(c), { entry: entries[c.what.entry], platform: BUILD_TIME.test(c.what.entry) ? 'node' : 'neutral' })
  }
  return bundleSize(label(c), { contents: `export { ${c.what.import} } from '${c.what.from}'` })
}

/** The README table, in the README's language. */
function sizeTable(lang: 'en' | 'zh'): string {
  const head = lang === 'en' ? '| what an app ships | gzip ceiling |' : '| 应用打包的内容 | gzip 上限 |'
  const whole = lang === 'en' ? ' (whole entry)' : '（整个入口）'
  const rows = CEILINGS.map((c) => `| \`${label(c)}\`${'entry' in c.what ? whole : ''} | ${c.bytes} B |`)
  return [head, '|---|---|', ...rows].join('\n')
}

const sizes = new Map<Ceiling, BundleSize>()

beforeAll(async () => {
  for (const c of CEILINGS) sizes.set(c, await measure(c))
  const rows = CEILINGS.map((c) => {
    const s = sizes.get(c)!
    return [label(c), String(s.minifiedBytes), String(s.gzipBytes), String(c.bytes), String(c.bytes - s.gzipBytes)]
  })
  const header = ['bundle', 'minified B', 'gzip B', `ceiling (${MEASURED})`, 'headroom']
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  console.log([header, ...rows].map((r) => r.map((cell, i) => cell.padEnd(widths[i])).join('  ')).join('\n'))
}, 60_000)

describe(`size ceilings (esbuild --bundle --minify, gzip -9; measured ${MEASURED})`, () => {
  it('has a ceiling for every public entry and every adapter install', () => {
    const ceiled = CEILINGS.flatMap((c) => ('entry' in c.what ? [c.what.entry] : []))
    expect(ceiled.sort(), 'each entry in vite.config.ts needs a ceiling here (and its line in CHANGELOG.md)').toEqual(
      Object.keys(entries).sort(),
    )
    const adapters = ['wx', 'my', 'tt', 'taro', 'uniapp']
    for (const a of adapters)
      expect(
        CEILINGS.some((c) => 'from' in c.what && c.what.from === `tokenrelay/${a}`),
        a,
      ).toBe(true)
  })

  it('each ceiling is a multiple of 128 B', () => {
    for (const c of CEILINGS) expect(c.bytes % 128, label(c)).toBe(0)
  })

  it.each(CEILINGS.map((c) => [label(c), c] as const))('%s stays within its ceiling', (name, c) => {
    const s = sizes.get(c)!
    const heaviest = s.inputs
      .slice(0, 5)
      .map((i) => `${i.path} ${i.bytes} B`)
      .join(', ')
    expect(
      s.gzipBytes,
      `${name}: ${s.gzipBytes} B gzip, ${s.gzipBytes - c.bytes} B over its ${c.bytes} B ceiling (heaviest, minified: ${heaviest}). ` +
        'Shrink it, or raise the ceiling in test/size.test.ts with a CHANGELOG.md line saying what the bytes buy.',
    ).toBeLessThanOrEqual(c.bytes)
  })

  it('CHANGELOG.md says what each ceiling buys: a line names it with its bytes', () => {
    const lines = readFileSync(join(root, 'CHANGELOG.md'), 'utf8').split('\n')
    for (const c of CEILINGS) {
      const line = lines.find((l) => l.includes(`\`${label(c)}\``) && l.includes(`${c.bytes} B`))
      expect(line, `CHANGELOG.md has no line naming \`${label(c)}\` with ${c.bytes} B`).toBeDefined()
    }
  })

  it.each([
    ['README.md', 'en'],
    ['README.zh-CN.md', 'zh'],
  ] as const)('%s shows this table', (file, lang) => {
    const text = readFileSync(join(root, file), 'utf8')
    const block = /<!-- size-ceilings[^>]*-->\n([\s\S]*?)\n<!-- \/size-ceilings -->/.exec(text)
    expect(block, `${file} has no <!-- size-ceilings --> … <!-- /size-ceilings --> block`).not.toBeNull()
    expect(block![1]).toBe(sizeTable(lang))
    // The date the text gives for the ceilings, not any date elsewhere in the README (the bench's, the mutation run's).
    expect(text).toContain(lang === 'en' ? `set at the size measured on ${MEASURED}` : `取 ${MEASURED} 测得的体积`)
  })
})
