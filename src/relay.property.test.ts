// The engine under random interleavings (fast-check's scheduler decides the order of every answer, timer
// and event). Each run checks the invariants (every caller settles once, no token to another host or of
// another account, refreshes bounded by the reasons to refresh, no unhandled rejection) and each request's
// outcome against what happened in that run. The test prints how many runs exercised each kind of event and
// fails when one falls under 10 %: a property that never meets an event proves nothing about it.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createTokenRelay, isTokenRelayError } from './index.js'
import type { Clock, Credentials, RelayRequest, RelayResponse, TokenStorage } from './index.js'

const API = 'https://api.test'
const EVIL = 'https://api.test.evil.com'
/** URLs that parsers read two ways; `new URL()` says where each really goes. */
const HOSTILE = [
  'https://evil.com\\@api.test/x',
  ' //evil.com/x',
  '/\t/evil.com/x',
  'ht\ttps://evil.com/x',
  '\\\\evil.com/x',
  'https://api.test\\@evil.com/x',
  '/\n/evil.com',
]
const REFRESH_TIMEOUT_MS = 1000
const AHEAD_MS = 60_000

type Outcome = 'ok' | 'invalid_grant' | '503' | 'network' | 'hang'
type Fault = 'none' | 'network' | '503'

interface Req {
  origin: 'api' | 'evil' | 'hostile'
  hostile: number
  exempt: boolean
  /** `stamp`: prepared with stamp(), sent by "the platform", handed over with receive() (the uni-app path). */
  path: 'send' | 'stamp'
  abort: 'none' | 'queued' | 'step'
  abortStep: number
  start: number
  fault: Fault
}

interface Plan {
  requests: Req[]
  /** Each number is how many scheduler steps pass before that event. */
  expiries: number[]
  refreshOutcomes: Outcome[]
  logout: number | null
  /** clear() then setCredentials() of another account. */
  switchAccount: number | null
  /** setCredentials() of the same account while a refresh runs. */
  setDuringFlight: boolean
  manualRefresh: number | null
  clock: { at: number; by: number }[]
  login: boolean
  /** No credentials at start: the login strategy runs before the first request. */
  loginFirst: boolean
  storage: 'memory' | 'hung' | 'slow' | 'failing'
  expiredAtStart: boolean
  bodyCode: boolean
  maxReplays: 1 | 2
  /** expiresIn of issued tokens (0: unknown). */
  lifetime: 0 | 100
}

const EVENTS = [
  'refresh',
  'expiry',
  'refresh fault',
  'refresh timeout fired',
  'backoff fired',
  'logout',
  'account switch',
  'setCredentials mid-flight',
  'manual refresh',
  'abort while queued',
  'abort in flight',
  'hung storage',
  'slow storage',
  'failing storage',
  'expired at start',
  'hostile URL',
  'clock moved',
  'clock set back',
  'stamp/receive path',
  'request network error',
  'request 5xx',
  'body-code expiry',
  'maxReplays 2',
  'login first',
] as const
type EventKind = (typeof EVENTS)[number]

const step = fc.integer({ min: 0, max: 12 })
/** A step in `tenths` of the runs, else null. */
const sometimes = (tenths: number) => fc.oneof({ weight: 10 - tenths, arbitrary: fc.constant(null) }, { weight: tenths, arbitrary: step })

const planArb: fc.Arbitrary<Plan> = fc.record({
  requests: fc.array(
    fc.record({
      origin: fc.constantFrom<Req['origin']>('api', 'api', 'api', 'api', 'evil', 'hostile'),
      hostile: fc.nat(HOSTILE.length - 1),
      exempt: fc.nat(3).map((n) => n === 0),
      path: fc.constantFrom<Req['path']>('send', 'send', 'send', 'stamp'),
      abort: fc.constantFrom<Req['abort']>('none', 'none', 'none', 'queued', 'queued', 'queued', 'step', 'step', 'step'),
      abortStep: step,
      start: step,
      fault: fc.constantFrom<Fault>('none', 'none', 'none', 'none', 'none', 'none', 'none', 'none', 'network', '503'),
    }),
    { minLength: 1, maxLength: 8 },
  ),
  expiries: fc.oneof(
    { weight: 7, arbitrary: fc.array(step, { minLength: 1, maxLength: 3 }) },
    { weight: 3, arbitrary: fc.constant<number[]>([]) },
  ),
  refreshOutcomes: fc.array(fc.constantFrom<Outcome>('ok', 'ok', 'ok', 'invalid_grant', '503', 'network', 'hang', 'hang'), {
    maxLength: 4,
  }),
  logout: sometimes(3),
  switchAccount: sometimes(3),
  setDuringFlight: fc.boolean(),
  manualRefresh: sometimes(3),
  clock: fc.array(fc.record({ at: step, by: fc.constantFrom(30_000, 60_000, 120_000, -7_200_000) }), { maxLength: 2 }),
  login: fc.boolean(),
  loginFirst: fc.nat(9).map((n) => n < 3),
  storage: fc.constantFrom<Plan['storage']>('memory', 'memory', 'hung', 'slow', 'failing'),
  expiredAtStart: fc.nat(19).map((n) => n < 7),
  bodyCode: fc.nat(9).map((n) => n < 4),
  maxReplays: fc.constantFrom<1 | 2>(1, 1, 2),
  lifetime: fc.constantFrom<0 | 100>(0, 100),
})

async function runPlan(s: fc.Scheduler, plan: Plan) {
  const seen = new Set<EventKind>()
  /** Runs `fn` after `steps` scheduler steps, so events land anywhere in the run. */
  const later = (steps: number, fn: () => unknown): Promise<unknown> =>
    s.schedule(Promise.resolve(), 'step').then(() => (steps > 0 ? later(steps - 1, fn) : fn()))
  const violations: string[] = []
  const outcomes = [...plan.refreshOutcomes]
  const loginFirst = plan.loginFirst
  const login = plan.login || loginFirst

  // --- the server: tokens are checked on arrival; each belongs to one account ----------------------------
  let n = 0
  const valid = new Set<string>()
  const accountOf = new Map<string, number>()
  let account = 1
  let currentRefresh: string | undefined
  let expiryEvents = 0
  const issue = (): Credentials => {
    n++
    valid.add(`at-${n}`)
    accountOf.set(`at-${n}`, account)
    currentRefresh = `rt-${n}`
    return { accessToken: `at-${n}`, refreshToken: currentRefresh, ...(plan.lifetime ? { expiresIn: plan.lifetime } : {}) }
  }

  // --- the device: a clock the run moves, timers the scheduler fires ------------------------------------------
  let now = 1_000_000_000_000
  /** Refresh-timeout timers: they fire only for an attempt that will never answer (a hang). */
  const timeouts = new Set<{ fn: () => void; cancelled: boolean }>()
  const clock: Clock = {
    now: () => now,
    setTimeout(fn, ms) {
      const timer = { fn, cancelled: false }
      if (ms >= REFRESH_TIMEOUT_MS) timeouts.add(timer)
      else {
        void s.schedule(Promise.resolve(), 'timer').then(() => {
          if (timer.cancelled) return
          if (ms < 500) seen.add('backoff fired')
          fn()
        })
      }
      return timer
    },
    clearTimeout(timer) {
      ;(timer as { cancelled: boolean }).cancelled = true
      timeouts.delete(timer as never)
    },
  }
  const fireTimeouts = () => {
    for (const timer of [...timeouts]) {
      timeouts.delete(timer)
      void s.schedule(Promise.resolve(), 'refresh timeout').then(() => {
        if (timer.cancelled) return
        seen.add('refresh timeout fired')
        timer.fn()
      })
    }
  }
  const stored = new Map<string, string>()
  const storage: TokenStorage | undefined =
    plan.storage === 'memory'
      ? undefined
      : {
          // Hung: every call hangs, the cold start's read included (the relay goes on after storageTimeoutMs).
          get: () => (plan.storage === 'hung' ? new Promise<string | null>(() => {}) : undefined),
          set: (k, v) => {
            if (plan.storage === 'failing') throw (seen.add('failing storage'), new Error('quota'))
            if (plan.storage === 'hung') return (seen.add('hung storage'), new Promise<void>(() => {}))
            seen.add('slow storage')
            return s.schedule(Promise.resolve(), 'storage').then(() => void stored.set(k, v))
          },
          remove: (k) => (plan.storage === 'hung' ? new Promise<void>(() => {}) : void stored.delete(k)),
        }

  const relay = createTokenRelay({
    baseURL: API,
    clock,
    storage,
    refreshTimeoutMs: REFRESH_TIMEOUT_MS,
    storageTimeoutMs: 500,
    refreshAheadMs: AHEAD_MS,
    maxReplays: plan.maxReplays,
    retry: { attempts: 1, backoffMs: 1 },
    circuit: { maxRefreshes: 4, windowMs: 60_000 },
    expired: plan.bodyCode ? { codes: [99997] } : undefined,
    refresh: async ({ refreshToken, request }) =>
      (await request({ url: '/auth/refresh', method: 'POST', data: { refreshToken } })).data as Credentials,
    login: login
      ? async ({ request }) => (await request({ url: '/auth/login', method: 'POST', data: { code: 'c' } })).data as Credentials
      : undefined,
    logger: { log() {}, warn() {} },
    transport: (req) => transport(req),
  })

  // --- what the relay says it does -----------------------------------------------------------------------------
  let flights = 0
  /** Refresh calls in progress, by the interruption they started after: a logout or new credentials abandon a flight. */
  let interruptions = 0
  const running = new Map<number, number>()
  const failures = new Set<string>()
  let failedFlights = 0
  let sessionEnded = false
  let loggedOut = false
  relay.on('refresh:start', (e) => {
    seen.add('refresh')
    if (e.strategy === 'refresh') flights++
    // A refresh needs a reason: no credentials, a token the server refuses, or a clock that says it is due.
    const c = relay.getCredentials()
    const dueByClock = !!c && c.expiresAt != null && now >= c.expiresAt - Math.min(AHEAD_MS, (plan.lifetime * 1000) / 2)
    if (e.reason !== 'manual' && c && valid.has(c.accessToken) && !dueByClock)
      violations.push(`needless ${e.reason} refresh while ${c.accessToken} works`)
    if (plan.setDuringFlight) {
      void later(1, () => {
        if (!relay.refreshing) return
        seen.add('setCredentials mid-flight')
        interruptions++
        void relay.setCredentials(issue())
      })
    }
  })
  relay.on('refresh:failure', (e) => (failedFlights++, failures.add(e.error.code)))
  relay.on('session-expired', () => (sessionEnded = true))

  function transport(req: RelayRequest): Promise<RelayResponse> {
    const token = req.header && req.header.Authorization ? req.header.Authorization.slice(7) : undefined
    // Where the request really goes is what the WHATWG parser says.
    const destination = (() => {
      try {
        return new URL(req.url, API).origin
      } catch {
        return null
      }
    })()
    if (token && destination !== API) violations.push(`token ${token} sent to ${JSON.stringify(req.url)} (${destination})`)
    if (token && req.exempt) violations.push(`token on an auth: false request ${req.url}`)
    const started = req.startedIn as number
    if (token && started && accountOf.get(token) !== started)
      violations.push(`a request of account ${started} sent with ${token} of account ${accountOf.get(token)}`)
    if (req.inFlight) (req.inFlight as { n: number }).n++
    let answer: RelayResponse | Error | 'hang'
    if (req.url.endsWith('/auth/refresh') || req.url.endsWith('/auth/login')) {
      const mine = interruptions
      running.set(mine, (running.get(mine) || 0) + 1)
      if (running.get(mine)! > 1) violations.push('two refresh calls at once')
      req.refreshCall = mine
      const outcome = outcomes.shift() || 'ok'
      if (outcome !== 'ok') seen.add('refresh fault')
      const rt = (req.data as { refreshToken?: string }).refreshToken
      const isRefresh = req.url.endsWith('/auth/refresh')
      if (isRefresh && rt !== currentRefresh) violations.push(`retired refresh token ${rt} presented`)
      answer =
        outcome === 'hang'
          ? 'hang'
          : outcome === 'network'
            ? new Error('request:fail')
            : outcome === '503'
              ? { statusCode: 503 }
              : outcome === 'invalid_grant' || (isRefresh && rt !== currentRefresh)
                ? { statusCode: 400, data: { error: 'invalid_grant' } }
                : { statusCode: 200, data: issue() }
      if (answer === 'hang') {
        running.set(mine, running.get(mine)! - 1)
        fireTimeouts()
        return new Promise(() => {})
      }
    } else {
      const fault = req.fault as Fault
      if (fault === 'network') seen.add('request network error')
      if (fault === '503') seen.add('request 5xx')
      const ok = !!token && valid.has(token)
      if (!ok && plan.bodyCode) seen.add('body-code expiry')
      // The server checks the token on arrival; the answer may come back much later.
      answer =
        fault === 'network'
          ? new Error('request:fail')
          : fault === '503'
            ? { statusCode: 503 }
            : ok
              ? { statusCode: 200, data: { token } }
              : plan.bodyCode
                ? { statusCode: 200, data: { code: 99997 } }
                : { statusCode: 401 }
    }
    const a = answer
    return s.schedule(Promise.resolve(), 'response ' + req.url).then(() => {
      if (typeof req.refreshCall === 'number') running.set(req.refreshCall, running.get(req.refreshCall)! - 1)
      if (req.inFlight) (req.inFlight as { n: number }).n--
      if (a instanceof Error) throw a
      return a
    })
  }

  // --- the run ------------------------------------------------------------------------------------------------
  if (plan.expiredAtStart) seen.add('expired at start')
  if (plan.maxReplays === 2) seen.add('maxReplays 2')
  if (loginFirst) seen.add('login first')
  if (!loginFirst) {
    const first = issue()
    if (plan.expiredAtStart) valid.clear()
    // Not awaited: with a hung storage the write is bounded by a timer that only the scheduler fires.
    void relay.setCredentials({ ...first, ...(plan.expiredAtStart ? { expiresAt: now - 1 } : {}) })
  }
  for (const at of plan.expiries) {
    void later(at, () => {
      seen.add('expiry')
      valid.clear()
      expiryEvents++
    })
  }
  for (const { at, by } of plan.clock) {
    void later(at, () => {
      seen.add(by < 0 ? 'clock set back' : 'clock moved')
      now += by
    })
  }
  if (plan.logout !== null) {
    void later(plan.logout, () => {
      seen.add('logout')
      loggedOut = true
      interruptions++
      return relay.clear()
    })
  }
  if (plan.switchAccount !== null) {
    void later(plan.switchAccount, () => {
      seen.add('account switch')
      loggedOut = true
      interruptions++
      void relay.clear()
      account++
      void relay.setCredentials(issue())
    })
  }
  if (plan.manualRefresh !== null) {
    void later(plan.manualRefresh, () => {
      seen.add('manual refresh')
      return relay.refresh().catch(() => {})
    })
  }

  const settled: number[] = plan.requests.map(() => 0)
  const results: unknown[] = []
  const aborted: boolean[] = plan.requests.map(() => false)
  const sends = plan.requests.map((r, i) => {
    const controller = new AbortController()
    const inFlight = { n: 0 }
    const abort = () => {
      if (controller.signal.aborted || settled[i]) return
      if (inFlight.n > 0) seen.add('abort in flight')
      aborted[i] = true
      controller.abort()
    }
    if (r.abort === 'step') void later(r.abortStep, abort)
    const url = r.origin === 'hostile' ? (seen.add('hostile URL'), HOSTILE[r.hostile]) : `${r.origin === 'api' ? API : EVIL}/api/${i}`
    return later(r.start, () => {
      // The account the request starts in (0: logged out, so it may go out in the next one).
      const startedIn = relay.getCredentials() ? account : 0
      const request: RelayRequest = {
        url,
        method: 'GET',
        auth: r.exempt ? false : undefined,
        signal: controller.signal,
        startedIn,
        fault: r.fault,
        inFlight,
        exempt: r.exempt,
      }
      if (r.abort === 'queued') {
        // After the relay subscribed to the signal: this is the listener's path, not the pre-check's.
        const off = relay.on('queued', (e) => {
          if (e.request !== request) return
          off()
          void s.schedule(Promise.resolve(), 'abort').then(() => {
            if (!settled[i] && !controller.signal.aborted) seen.add('abort while queued')
            abort()
          })
        })
      }
      if (r.path === 'send') return relay.send(request, transport)
      seen.add('stamp/receive path')
      const stamped = relay.stamp(request)
      return transport(stamped.request).then((response) => relay.receive(request, transport, { ...stamped, response }))
    }).then(
      (v) => (settled[i]++, (results[i] = v)),
      (e) => (settled[i]++, (results[i] = e)),
    )
  })

  // A request left pending forever would stall here: the race turns that into a failure.
  let guard: ReturnType<typeof setTimeout> | undefined
  await Promise.race([s.waitFor(Promise.all(sends)), new Promise((resolve) => (guard = setTimeout(resolve, 2000)))])
  clearTimeout(guard)
  await s.waitAll()

  // --- each request's outcome, against what happened -----------------------------------------------------------
  const episodes = expiryEvents + (plan.expiredAtStart ? 1 : 0)
  const faultless =
    plan.refreshOutcomes.every((o) => o === 'ok') &&
    plan.logout === null &&
    plan.switchAccount === null &&
    plan.storage !== 'failing' &&
    !sessionEnded
  plan.requests.forEach((r, i) => {
    const out = results[i]
    const where = `request ${i} (${JSON.stringify(r)})`
    const guarded = r.origin === 'api' && !r.exempt
    if (isTokenRelayError(out)) {
      const ok: Record<string, boolean> = {
        ABORTED: aborted[i],
        LOGGED_OUT: loggedOut,
        SESSION_EXPIRED: sessionEnded,
        REFRESH_FAILED: failures.has('REFRESH_FAILED'),
        REFRESH_TIMEOUT: failures.has('REFRESH_TIMEOUT'),
        REPLAY_LIMIT: episodes + plan.clock.length >= 2 || plan.switchAccount !== null || plan.setDuringFlight,
      }
      if (!ok[out.code]) violations.push(`${where} ended ${out.code} with no cause for it in the run`)
    } else if (out instanceof Error) {
      if (r.fault !== 'network' && !aborted[i]) violations.push(`${where} rejected with ${out.message}`)
    } else {
      const res = out as RelayResponse
      if (res.statusCode === 503 && r.fault !== '503') violations.push(`${where} answered 503`)
      const expiredAnswer = res.statusCode === 401 || (res.data as { code?: number } | undefined)?.code === 99997
      if (guarded && expiredAnswer) violations.push(`${where} resolved with an expiry answer instead of a replay or a typed error`)
      if (guarded && res.statusCode === 200 && !(res.data as { token?: string }).token)
        violations.push(`${where} resolved 200 without a token`)
    }
    // With nothing failing, every guarded request ends with the server's 200 (or its own fault, or its abort).
    if (faultless && guarded && r.fault === 'none' && !aborted[i] && !isTokenRelayError(out, 'REPLAY_LIMIT')) {
      if ((out as RelayResponse)?.statusCode !== 200)
        violations.push(`${where} did not succeed in a run where nothing failed: ${String(out)}`)
    }
  })
  return { settled, violations, flights, episodes, failedFlights, seen }
}

describe('property: random interleavings of requests, expiries, refresh outcomes, timers, clocks, aborts, logouts, account switches, storage faults and hostile URLs', () => {
  it('every request settles once with an outcome the run explains; no token to another host or of another account; refreshes bounded; every event kind in ≥ 10 % of runs', async () => {
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    const coverage = new Map<EventKind, number>(EVENTS.map((e) => [e, 0]))
    let runs = 0
    const numRuns = Number(process.env.FC_RUNS) || 10_000
    try {
      await fc.assert(
        fc.asyncProperty(fc.scheduler(), planArb, async (s, plan) => {
          const { settled, violations, flights, episodes, failedFlights, seen } = await runPlan(s, plan)
          runs++
          for (const e of seen) coverage.set(e, coverage.get(e)! + 1)
          expect(violations).toEqual([])
          expect(settled).toEqual(plan.requests.map(() => 1))
          // Refresh calls ≤ reasons to refresh: expiry episodes, clock moves, a manual call, and flights that failed
          // (their token still needs replacing).
          expect(flights).toBeLessThanOrEqual(episodes + plan.clock.length + (plan.manualRefresh !== null ? 1 : 0) + failedFlights)
        }),
        {
          numRuns,
          seed: Number(process.env.FC_SEED) || 20261203,
          ...(process.env.FC_PATH ? { path: process.env.FC_PATH, endOnFailure: true } : {}),
        },
      )
      await new Promise((r) => setTimeout(r, 10))
      expect(unhandled).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
    const report = EVENTS.map(
      (e) => `${e.padEnd(26)} ${String(coverage.get(e)).padStart(6)} runs (${((coverage.get(e)! / runs) * 100).toFixed(1)} %)`,
    )
    console.log(`[property] ${runs} runs; runs that exercised each event:\n  ` + report.join('\n  '))
    if (numRuns >= 1000) for (const e of EVENTS) expect(coverage.get(e)! / runs, e).toBeGreaterThanOrEqual(0.1)
  }, 120_000)
})
