// Runs every scenario for ONE library, in its own process (fresh heap and JIT), and sends the records to
// bench/run.ts over IPC. Usage: node --expose-gc --import tsx bench/worker.ts <library> <part> [--quick]
import { libraries } from './clients.js'
import type { LibraryName } from './clients.js'
import { concurrentExpired, late401, memory, overhead, refreshFailure, round } from './scenarios.js'
import type { Settled } from './scenarios.js'

export interface BenchRecord {
  scenario: 'concurrent-expired' | 'late-401' | 'refresh-failure' | 'overhead' | 'memory'
  library: LibraryName
  params: Record<string, number>
  [figure: string]: unknown
}

export interface WorkerPlan {
  concurrency: number[]
  repeats: number
  failureWaiting: number
  overheadRequests: number
  overheadRounds: number
  memoryQueued: number
}

export const FULL_PLAN: WorkerPlan = {
  concurrency: [1, 10, 100, 1000],
  repeats: 3,
  failureWaiting: 10,
  overheadRequests: 100_000,
  overheadRounds: 3,
  memoryQueued: 10_000,
}

export const QUICK_PLAN: WorkerPlan = { ...FULL_PLAN, repeats: 1, overheadRequests: 10_000, overheadRounds: 1, memoryQueued: 1_000 }

type Counted = Settled & { refreshCalls: number; apiCalls: number }

/** Repeats a counting scenario; reports the worst counts (they should not differ) and the median wall time. */
async function repeated<T extends Counted>(times: number, run: () => Promise<T>) {
  const runs: T[] = []
  for (let i = 0; i < times; i++) runs.push(await run())
  const walls = runs.map((r) => r.wallMs)
  const sorted = walls.every((w): w is number => w !== null) ? [...walls].sort((a, b) => a - b) : null
  const worst = [...runs].sort((a, b) => b.refreshCalls - a.refreshCalls || b.pending - a.pending || b.rejected - a.rejected)[0]
  return {
    ...worst,
    wallMs: sorted ? round(sorted[Math.floor(sorted.length / 2)]) : null,
    consistent: runs.every((r) => r.refreshCalls === worst.refreshCalls && r.fulfilled === worst.fulfilled && r.pending === worst.pending),
    runs: runs.map(({ refreshCalls, apiCalls, fulfilled, rejected, pending, wallMs }) => ({
      refreshCalls,
      apiCalls,
      fulfilled,
      rejected,
      pending,
      wallMs,
    })),
  }
}

export const PARTS = ['counts', 'overhead', 'memory'] as const
export type Part = (typeof PARTS)[number]

/** Each part runs in its own process, so one part's garbage and JIT state cannot leak into another's figures. */
export async function runPart(name: LibraryName, part: Part, plan: WorkerPlan): Promise<BenchRecord[]> {
  const lib = libraries[name]
  const records: BenchRecord[] = []
  if (part === 'counts') {
    for (const n of plan.concurrency) {
      const figures = await repeated(plan.repeats, () => concurrentExpired(lib, n))
      records.push({ scenario: 'concurrent-expired', library: name, params: { n }, ...figures })
    }
    records.push({ scenario: 'late-401', library: name, params: { n: 2 }, ...(await repeated(plan.repeats, () => late401(lib))) })
    const failure = await repeated(plan.repeats, () => refreshFailure(lib, plan.failureWaiting))
    records.push({ scenario: 'refresh-failure', library: name, params: { n: plan.failureWaiting }, ...failure })
  } else if (part === 'overhead') {
    const cost = await overhead(lib, plan.overheadRequests, plan.overheadRounds)
    records.push({ scenario: 'overhead', library: name, params: { requests: plan.overheadRequests }, ...cost })
  } else {
    const heap = await memory(lib, plan.memoryQueued)
    records.push({ scenario: 'memory', library: name, params: { queued: plan.memoryQueued }, ...heap })
  }
  return records
}

const isMain = process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').pop()!)
if (isMain) {
  const name = process.argv[2] as LibraryName
  const part = process.argv[3] as Part
  if (!libraries[name]) throw new Error(`unknown library ${name}; one of ${Object.keys(libraries).join(', ')}`)
  if (!PARTS.includes(part)) throw new Error(`unknown part ${part}; one of ${PARTS.join(', ')}`)
  const plan = process.argv.includes('--quick') ? QUICK_PLAN : FULL_PLAN
  runPart(name, part, plan).then(
    (records) => {
      // Pending promises (a library that never settles its callers) must not keep the process around.
      if (process.send) process.send({ records }, () => process.exit(0))
      else {
        console.log(JSON.stringify(records, null, 2))
        process.exit(0)
      }
    },
    (error: unknown) => {
      console.error(error)
      process.exit(1)
    },
  )
}
