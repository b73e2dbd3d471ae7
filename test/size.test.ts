// Size budgets (`npm run size`), measured the way an app ships us: every public entry bundled, minified
// and gzipped (-9). Not part of `npm test` while the budgets are unmet (a red `npm test` cannot land, and a
// budget must not be raised): issue 6 is blocked on which default behaviours may become opt-in. The
// tree-shaking guarantee (JWT decoder, debug timeline) is checked in `npm test` by test/treeshake.test.ts.
// Entries come from `entries` in vite.config.ts, so a new adapter (platforms/<name>/index.ts) is budgeted as
// soon as it is listed there. Over budget means the code must shrink: never raise a budget to make this pass.
import { beforeAll, describe, expect, it } from 'vitest'
import { bundleSize } from '../bench/bundle-size.js'
import type { BundleSize } from '../bench/bundle-size.js'
import { entries } from '../vite.config.js'

const BUDGET = {
  /** What an app pays for silent refresh: the core plus the one adapter for its platform. */
  coreWithAdapter: 3072,
  /** Any single public entry. */
  entry: 4096,
}

const CORE = 'index'
/** Build-time tools (the Taro CLI plugin, the Vite plugin) run in Node at build time, not inside the app. */
const BUILD_TIME = /\/(plugin|vite)$/
const shipped = Object.keys(entries).filter((name) => !BUILD_TIME.test(name))
/** Adapters: what an app adds to the core for its platform (UI bindings like react and H5 helpers excluded). */
const adapterNames = shipped.filter((name) => ['wx', 'my', 'taro', 'uniapp'].includes(name))

const sizes = new Map<string, BundleSize>()
let typical: BundleSize

function heaviest(size: BundleSize): string {
  return size.inputs
    .slice(0, 5)
    .map((i) => `${i.path} ${i.bytes} B`)
    .join(', ')
}

function overBy(size: BundleSize, budget: number): string {
  return `${size.name}: ${size.gzipBytes} B gzip, ${size.gzipBytes - budget} B over ${budget} B; heaviest (minified): ${heaviest(size)}`
}

beforeAll(async () => {
  for (const name of shipped) sizes.set(name, await bundleSize(name, { entry: entries[name] }))
  typical = await bundleSize("import { createTokenRelay } from 'tokenrelay'", {
    contents: "export { createTokenRelay } from 'tokenrelay'",
  })
  const coreWithAdapter = adapterNames.length ? adapterNames : [CORE]
  const rows = [...sizes.values(), typical].map((s) => [
    s.name,
    String(s.minifiedBytes),
    String(s.gzipBytes),
    sizes.has(s.name) ? String(BUDGET.entry - s.gzipBytes) : '',
    coreWithAdapter.includes(s.name) ? String(BUDGET.coreWithAdapter - s.gzipBytes) : '',
  ])
  const header = ['bundle', 'minified B', 'gzip B', `headroom vs entry ${BUDGET.entry}`, `headroom vs core+adapter ${BUDGET.coreWithAdapter}`]
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  console.log([header, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ')).join('\n'))
}, 60_000)

describe('bundle size (esbuild --bundle --minify, gzip -9)', () => {
  it('lists the core entry', () => {
    expect(entries[CORE]).toBe('src/index.ts')
  })

  it.each(shipped)(`entry %s stays within ${BUDGET.entry} B gzip`, (name) => {
    const size = sizes.get(name)!
    expect(size.gzipBytes, overBy(size, BUDGET.entry)).toBeLessThanOrEqual(BUDGET.entry)
  })

  // Adapters import the core, so bundling an adapter entry measures "core + one adapter". Until the first
  // adapter is listed, the core alone is held to that budget.
  it.each(adapterNames.length ? adapterNames : [CORE])(`%s (core + one adapter) stays within ${BUDGET.coreWithAdapter} B gzip`, (name) => {
    const size = sizes.get(name)!
    expect(size.gzipBytes, overBy(size, BUDGET.coreWithAdapter)).toBeLessThanOrEqual(BUDGET.coreWithAdapter)
  })
})
