// The scenarios, each run against one library on a fresh server and client. Counts come from the server
// (refresh calls, API hits) and from the callers' own promises (fulfilled / rejected / still pending).
import { bareClient } from './clients.js'
import type { BenchClient, Library } from './clients.js'
import { fakeServer } from './fake-server.js'

export const LATENCY_MS = 5
/** How long a caller may take to settle before it is counted as pending. */
export const SETTLE_BOUND_MS = { concurrent: 10_000, failure: 2_000 }

export interface Settled {
  fulfilled: number
  rejected: number
  /** Callers that had not settled when the bound ran out. */
  pending: number
  /** First send to last settle; null when some caller never settled. */
  wallMs: number | null
  /** Rejections by kind (`TokenRelayError:SESSION_EXPIRED`, `AxiosError:401`, `CanceledError`…). */
  errors: Record<string, number>
}

function errorKind(error: unknown): string {
  const e = error as { name?: string; code?: string; response?: { status?: number; statusCode?: number } }
  if (!e || typeof e !== 'object') return String(error)
  const status = e.response && (e.response.status ?? e.response.statusCode)
  const detail = e.name === 'TokenRelayError' || e.name === 'SessionExpiredError' ? e.code : status
  return detail === undefined ? String(e.name) : `${e.name}:${detail}`
}

/** Counts outcomes as they come, without keeping the promises' values alive. */
export function settle(promises: Promise<unknown>[], startedAt: number, boundMs: number): Promise<Settled> {
  return new Promise((resolve) => {
    const out = { fulfilled: 0, rejected: 0, errors: {} as Record<string, number> }
    let last = startedAt
    let left = promises.length
    const done = () => {
      clearTimeout(timer)
      resolve({ ...out, pending: left, wallMs: left ? null : round(last - startedAt) })
    }
    const timer = setTimeout(done, boundMs)
    const one = () => {
      last = performance.now()
      if (--left === 0) done()
    }
    for (const p of promises) {
      p.then(
        () => {
          out.fulfilled++
          one()
        },
        (error: unknown) => {
          out.rejected++
          const kind = errorKind(error)
          out.errors[kind] = (out.errors[kind] || 0) + 1
          one()
        },
      )
    }
    if (!left) done()
  })
}

export const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits

const macrotask = () => new Promise((resolve) => setImmediate(resolve))

/** N callers, sent together, all meeting an access token the server no longer accepts. */
export async function concurrentExpired(lib: Library, n: number) {
  const server = fakeServer({ latencyMs: LATENCY_MS })
  const client = await lib.create(server, server.expiredTokens())
  const t0 = performance.now()
  const calls: Promise<unknown>[] = []
  for (let i = 0; i < n; i++) calls.push(client.get(`/api/items/${i}`))
  const settled = await settle(calls, t0, SETTLE_BOUND_MS.concurrent)
  return { refreshCalls: server.stats.refreshCalls, apiCalls: server.stats.apiCalls, ...settled }
}

/**
 * Two callers send with the same expired token; the slow one's 401 arrives (at 50 ms) after the fast one's
 * 401 already refreshed (done by ~10 ms). One refresh is enough: the slow one only needs a replay.
 */
export async function late401(lib: Library) {
  const server = fakeServer({ latencyMs: LATENCY_MS, latencyFor: (path) => (path === '/api/slow' ? 50 : undefined) })
  const client = await lib.create(server, server.expiredTokens())
  const t0 = performance.now()
  const calls = [client.get('/api/slow'), client.get('/api/fast')]
  const settled = await settle(calls, t0, SETTLE_BOUND_MS.concurrent)
  return { refreshCalls: server.stats.refreshCalls, apiCalls: server.stats.apiCalls, ...settled }
}

/** N callers meet an expired token and the refresh endpoint answers 400 invalid_grant. */
export async function refreshFailure(lib: Library, n: number) {
  const server = fakeServer({ latencyMs: LATENCY_MS, refreshFails: true })
  const client = await lib.create(server, server.expiredTokens())
  const t0 = performance.now()
  const calls: Promise<unknown>[] = []
  for (let i = 0; i < n; i++) calls.push(client.get(`/api/items/${i}`))
  const settled = await settle(calls, t0, SETTLE_BOUND_MS.failure)
  return { refreshCalls: server.stats.refreshCalls, apiCalls: server.stats.apiCalls, boundMs: SETTLE_BOUND_MS.failure, ...settled }
}

async function sequential(client: BenchClient, count: number): Promise<number> {
  const t0 = performance.now()
  for (let i = 0; i < count; i++) await client.get('/api/items/1')
  return performance.now() - t0
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/**
 * `count` requests one after another, no expiry, on a transport that answers with a resolved promise.
 * Rounds alternate bare / host client / library so that load from other processes hits all of them alike.
 */
export async function overhead(lib: Library, count: number, rounds: number) {
  const server = fakeServer({ latencyMs: 0 })
  const tokens = server.validTokens()
  const bare = bareClient(server, tokens)
  const host = lib.host(server, tokens)
  const client = await lib.create(server, tokens)
  const sameAsBare = lib.host === bareClient
  const warm = Math.min(5_000, count)
  await sequential(bare, warm)
  if (!sameAsBare) await sequential(host, warm)
  await sequential(client, warm)
  const times = { bare: [] as number[], host: [] as number[], lib: [] as number[] }
  for (let r = 0; r < rounds; r++) {
    times.bare.push(await sequential(bare, count))
    if (!sameAsBare) times.host.push(await sequential(host, count))
    times.lib.push(await sequential(client, count))
  }
  const bareMs = median(times.bare)
  const hostMs = sameAsBare ? bareMs : median(times.host)
  const libMs = median(times.lib)
  return {
    requests: count,
    rounds,
    refreshCalls: server.stats.refreshCalls,
    bareMs: round(bareMs),
    hostMs: round(hostMs),
    libMs: round(libMs),
    usPerRequest: round((libMs * 1000) / count, 3),
    bareUsPerRequest: round((bareMs * 1000) / count, 3),
    /** Library time over bare transport time. */
    ratio: round(libMs / bareMs),
    /** Library time over the same HTTP client without its auth layer (1 = the auth layer costs nothing). */
    ratioToHost: round(libMs / hostMs),
  }
}

function heapUsed(): number {
  const gc = (globalThis as { gc?: () => void }).gc
  if (!gc) throw new Error('run with --expose-gc')
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

async function queueBehindRefresh(lib: Library, count: number, measure: boolean) {
  const server = fakeServer({ latencyMs: LATENCY_MS })
  const client = await lib.create(server, server.expiredTokens())
  const release = server.holdRefresh()
  const base = measure ? heapUsed() : 0
  const t0 = performance.now()
  let calls: Promise<unknown>[] = [client.get('/api/trigger')]
  await server.refreshStarted
  for (let i = 0; i < count; i++) calls.push(client.get(`/api/items/${i}`))
  const tracking = settle(calls, t0, SETTLE_BOUND_MS.concurrent)
  calls = []
  await macrotask()
  await macrotask()
  const queued = measure ? heapUsed() : 0
  release()
  const settled = await tracking
  // Let timers the library scheduled on settle run (alova resolves its abort promise in a setTimeout per request):
  // the figure is what an idle app keeps, not what is in flight at the instant of the last settle.
  await new Promise((resolve) => setTimeout(resolve, 20))
  const after = measure ? heapUsed() : 0
  return {
    queued: count,
    refreshCalls: server.stats.refreshCalls,
    apiCalls: server.stats.apiCalls,
    ...settled,
    baselineHeapBytes: base,
    queuedHeapDeltaBytes: queued - base,
    bytesPerQueuedRequest: Math.round((queued - base) / count),
    retainedHeapDeltaBytes: after - base,
  }
}

/**
 * One caller's 401 starts a refresh; the server holds the refresh answer while `count` more callers are sent,
 * so all of them queue behind it. Heap is read (after gc) before, while queued, and after they drained. The
 * counts include the harness's own bookkeeping (two callbacks per caller), the same for every library.
 */
export async function memory(lib: Library, count: number) {
  // A smaller run first, so that code compiled on first use (refresh, replay paths) is not counted as retained.
  await queueBehindRefresh(lib, Math.min(500, count), false)
  return queueBehindRefresh(lib, count, true)
}
