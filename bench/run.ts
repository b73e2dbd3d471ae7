// `npm run bench`: every scenario for every library, one process per (library, part), one after another (never
// two at once, so they do not compete for the CPU). Writes bench/results.json and bench/RESULTS.md and prints
// the markdown table. `--quick` runs a smaller plan and writes nothing (for trying changes out).
import { fork } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { cpus, platform, release } from 'node:os'
import { bundleSize } from './bundle-size.js'
import type { LibraryName } from './clients.js'
import { LATENCY_MS, SETTLE_BOUND_MS } from './scenarios.js'
import { FULL_PLAN, PARTS, QUICK_PLAN } from './worker.js'
import type { BenchRecord, Part } from './worker.js'

const LIBRARIES: LibraryName[] = ['tokenrelay', 'alova', 'axios-auth-refresh']
const PART_TIMEOUT_MS = 120_000
const quick = process.argv.includes('--quick')
const plan = quick ? QUICK_PLAN : FULL_PLAN

function version(pkg: string): string {
  const url =
    pkg === 'tokenrelay' ? new URL('../package.json', import.meta.url) : new URL(`../node_modules/${pkg}/package.json`, import.meta.url)
  return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version
}

function runPart(library: LibraryName, part: Part): Promise<BenchRecord[]> {
  return new Promise((resolve, reject) => {
    const child = fork(new URL('./worker.ts', import.meta.url), [library, part, ...(quick ? ['--quick'] : [])], {
      execArgv: ['--expose-gc', '--import', 'tsx'],
    })
    let records: BenchRecord[] | undefined
    const timer = setTimeout(() => {
      child.kill()
      reject(new Error(`${library} ${part}: no result within ${PART_TIMEOUT_MS} ms`))
    }, PART_TIMEOUT_MS)
    child.on('message', (message) => (records = (message as { records: BenchRecord[] }).records))
    child.on('exit', (code) => {
      clearTimeout(timer)
      if (records) resolve(records)
      else reject(new Error(`${library} ${part}: worker exited with ${code} and no result`))
    })
  })
}

async function sizes() {
  const bundles = [
    {
      library: 'tokenrelay',
      what: "import { createTokenRelay } from 'tokenrelay'",
      contents: "export { createTokenRelay } from 'tokenrelay'",
    },
    {
      library: 'alova',
      what: 'alova core + createServerTokenAuthentication',
      contents: "export { createAlova } from 'alova'; export { createServerTokenAuthentication } from 'alova/client'",
    },
    {
      library: 'axios-auth-refresh',
      what: 'createAuthRefresh (axios external)',
      contents: "export { createAuthRefresh } from 'axios-auth-refresh'",
      external: ['axios'],
    },
    {
      library: 'axios-auth-refresh',
      what: 'axios + createAuthRefresh',
      contents: "export { default as axios } from 'axios'; export { createAuthRefresh } from 'axios-auth-refresh'",
    },
  ]
  const out = []
  for (const b of bundles) {
    // `browser`: axios' package picks its browser build (no Node http adapter) under that condition.
    const size = await bundleSize(b.what, { contents: b.contents, external: b.external || [], platform: 'browser' })
    out.push({ library: b.library, what: b.what, minifiedBytes: size.minifiedBytes, gzipBytes: size.gzipBytes })
  }
  return out
}

// --- formatting

const kb = (bytes: number) =>
  Math.abs(bytes) >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${(bytes / 1024).toFixed(1)} KB`
const ms = (x: unknown) => (x === null ? 'never' : `${Math.round(x as number)} ms`)
const refreshes = (n: number) => `${n} refresh${n === 1 ? '' : 'es'}`

function cell(r: BenchRecord): string {
  const f = r as Record<string, number> & BenchRecord
  const total = f.fulfilled + f.rejected + f.pending
  const outcome = [
    `${f.fulfilled}/${total} ok`,
    f.rejected ? `${f.rejected} rejected` : '',
    f.pending ? `**${f.pending} never settled**` : '',
  ]
    .filter(Boolean)
    .join(', ')
  switch (r.scenario) {
    case 'concurrent-expired':
    case 'late-401':
      return `${refreshes(f.refreshCalls)} · ${outcome} · ${ms(f.wallMs)}`
    case 'refresh-failure': {
      // Which error the callers got matters: the refresh's verdict, or just the 401 they started with.
      const errors = Object.entries(r.errors as Record<string, number>)
        .map(([kind, n]) => `${n}× ${kind}`)
        .join(', ')
      return f.pending
        ? `${total - f.pending}/${total} settled (${errors}), **${f.pending} still pending after ${f.boundMs / 1000} s** · ${refreshes(f.refreshCalls)}`
        : `${total}/${total} settled in ${ms(f.wallMs)} (${errors}) · ${refreshes(f.refreshCalls)}`
    }
    case 'overhead':
      return `${f.ratio}× bare · ${f.usPerRequest} µs/req${r.library === 'tokenrelay' ? '' : ` (auth layer: ${f.ratioToHost}× the client alone)`}`
    case 'memory':
      return `${kb(f.queuedHeapDeltaBytes)} while queued (${f.bytesPerQueuedRequest} B/req) · ${kb(f.retainedHeapDeltaBytes)} after drain · ${ms(f.wallMs)}`
  }
}

function label(r: BenchRecord): string {
  switch (r.scenario) {
    case 'concurrent-expired':
      return `${r.params.n} concurrent request${r.params.n === 1 ? '' : 's'}, expired token`
    case 'late-401':
      return 'Late 401 (old-token answer arrives after the refresh)'
    case 'refresh-failure':
      return `Refresh fails (400 invalid_grant), ${r.params.n} waiting`
    case 'overhead':
      return `Overhead, ${r.params.requests.toLocaleString('en')} requests, no expiry`
    case 'memory':
      return `Heap, ${r.params.queued.toLocaleString('en')} requests queued behind a refresh`
  }
}

function markdownTable(records: BenchRecord[], versions: Record<string, string>): string {
  const head = `| Scenario | ${LIBRARIES.map((l) => `${l} ${versions[l]}`).join(' | ')} |`
  const rows: string[] = []
  const seen = new Set<string>()
  for (const r of records) {
    const key = r.scenario + JSON.stringify(r.params)
    if (seen.has(key)) continue
    seen.add(key)
    const cells = LIBRARIES.map((l) => {
      const match = records.find(
        (x) => x.library === l && x.scenario === r.scenario && JSON.stringify(x.params) === JSON.stringify(r.params),
      )
      return match ? cell(match) : '–'
    })
    rows.push(`| ${label(r)} | ${cells.join(' | ')} |`)
  }
  return [head, `|${'---|'.repeat(LIBRARIES.length + 1)}`, ...rows].join('\n')
}

function sizeTable(list: Awaited<ReturnType<typeof sizes>>): string {
  return [
    '| Bundle (esbuild --bundle --minify, gzip -9) | min | gzip |',
    '|---|---|---|',
    ...list.map((s) => `| ${s.library}: ${s.what} | ${kb(s.minifiedBytes)} | ${kb(s.gzipBytes)} |`),
  ].join('\n')
}

function consistency(records: BenchRecord[]): string {
  const differing = records.filter((r) => r.consistent === false)
  return differing.length
    ? `they differed for ${differing.map((r) => `${r.library} ${r.scenario} ${JSON.stringify(r.params)}`).join('; ')}: see runs in results.json`
    : 'they did not differ'
}

async function main() {
  const started = performance.now()
  const versions: Record<string, string> = Object.fromEntries(LIBRARIES.map((l) => [l, version(l)]))
  versions.axios = version('axios')
  const records: BenchRecord[] = []
  for (const library of LIBRARIES) {
    for (const part of PARTS) {
      const t0 = performance.now()
      records.push(...(await runPart(library, part)))
      console.error(`[bench] ${library} ${part}: ${((performance.now() - t0) / 1000).toFixed(1)} s`)
    }
  }
  const bundleSizes = await sizes()
  const date = new Date().toISOString()
  const environment = {
    date,
    node: process.version,
    cpu: cpus()[0]?.model.trim() || 'unknown',
    cores: cpus().length,
    os: `${platform()} ${release()}`,
  }
  const results = {
    ...environment,
    libraries: versions,
    setup: {
      transport: `one in-process fake server; every answer delayed ${LATENCY_MS} ms by setTimeout (0 ms = resolved promise for overhead)`,
      expiry: 'HTTP 401 with WWW-Authenticate: Bearer error="invalid_token"',
      refreshTokens: 'rotated on every refresh; an old one is refused with 400 invalid_grant',
      settleBoundMs: SETTLE_BOUND_MS,
      plan,
      counts: 'refreshCalls and apiCalls are counted by the server; worst of the repeats, wallMs is their median',
    },
    records,
    sizes: bundleSizes,
    elapsedSeconds: Math.round((performance.now() - started) / 1000),
  }
  const table = markdownTable(records, versions)
  const sizesMd = sizeTable(bundleSizes)
  console.log(`\n${table}\n\n${sizesMd}\n`)
  if (quick) {
    console.error('[bench] --quick: nothing written')
    return
  }
  writeFileSync(new URL('./results.json', import.meta.url), JSON.stringify(results, null, 2) + '\n')
  writeFileSync(
    new URL('./RESULTS.md', import.meta.url),
    [
      '# Benchmark results',
      '',
      `${date.slice(0, 10)} · Node ${process.version} · ${environment.cpu} (${environment.cores} cores, shared) · \`npm run bench\``,
      '',
      `Same fake transport for all (${LATENCY_MS} ms per answer); the access token has expired server-side, the server answers 401;`,
      'refresh tokens rotate. Refresh calls are counted by the server. Each library is set up as its own docs show',
      '(see bench/clients.ts). Full figures: bench/results.json.',
      '',
      table,
      '',
      sizesMd,
      '',
      'Notes',
      '',
      `- Counts are the worst of ${plan.repeats} runs (${consistency(records)}), wall times the median. Wall time is first send to last settle,`,
      '  so a library that rejects callers early looks fast.',
      '- Overhead: requests one after another on a transport that answers with a resolved promise; "bare" is that transport',
      '  plus a fixed header and a status check. For the peers, most of the cost is the HTTP client itself (axios, alova), so',
      '  the auth layer alone is also given relative to the same client without it.',
      '- Heap: read after `gc()` before, while all requests wait for the held refresh, and 20 ms after the last one settled.',
      "  Figures include the benchmark's own bookkeeping per request (the same for every library).",
      "- alova: `cacheFor: null` and an in-memory `l2Cache` (Node has no localStorage; alova's placeholder throws on every",
      '  response). Its wall time grows quadratically with in-flight requests: every answer runs `Object.keys()` over the',
      '  map of requests in flight.',
      '',
    ].join('\n'),
  )
  console.error(`[bench] wrote bench/results.json and bench/RESULTS.md in ${results.elapsedSeconds} s`)
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
