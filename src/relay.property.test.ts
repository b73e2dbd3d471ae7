import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { TokenRelayError, createTokenRelay, isTokenRelayError } from './index.js'
import type { Clock, Credentials, RelayRequest, RelayResponse } from './index.js'

const API = 'https://api.test'
const EVIL = 'https://api.test.evil.com'
/** URLs that parsers read two ways; `new URL()` says where each really goes. */
const HOSTILE = ['https://evil.com\\@api.test/x', ' //evil.com/x', '/\t/evil.com/x', 'ht\ttps://evil.com/x', '\\\\evil.com/x', 'https://api.test\\@evil.com/x', '/\n/evil.com']

type Outcome = 'ok' | 'invalid_grant' | '503' | 'network'

interface Plan {
  requests: { origin: 'api' | 'evil' | 'hostile'; hostile: number; abort: number | null; start: number }[]
  /** Each number is how many scheduler steps pass before that event. */
  expiries: number[]
  refreshOutcomes: Outcome[]
  logout: number | null
  /** clear() then setCredentials() of another account. */
  switchAccount: number | null
  login: boolean
  /** storage.set never settles (the relay must go on after storageTimeoutMs). */
  hungStorage: boolean
  /** The first credentials arrive already expired. */
  expiredAtStart: boolean
}

const step = fc.integer({ min: 0, max: 12 })

const planArb: fc.Arbitrary<Plan> = fc.record({
  requests: fc.array(
    fc.record({
      origin: fc.constantFrom<'api' | 'evil' | 'hostile'>('api', 'api', 'api', 'evil', 'hostile'),
      hostile: fc.nat(HOSTILE.length - 1),
      abort: fc.option(step, { freq: 3 }),
      start: step,
    }),
    { minLength: 1, maxLength: 8 },
  ),
  expiries: fc.array(step, { maxLength: 3 }),
  refreshOutcomes: fc.array(fc.constantFrom<Outcome>('ok', 'ok', 'invalid_grant', '503', 'network'), { maxLength: 6 }),
  logout: fc.option(step, { freq: 4 }),
  switchAccount: fc.option(step, { freq: 4 }),
  login: fc.boolean(),
  hungStorage: fc.boolean(),
  expiredAtStart: fc.boolean(),
})

async function runPlan(s: fc.Scheduler, plan: Plan, exempt: boolean[]) {
  /** Runs `fn` after `steps` scheduler steps, so events land anywhere in the run. */
  const later = (steps: number, fn: () => unknown): Promise<unknown> =>
    s.schedule(Promise.resolve(), 'step').then(() => (steps > 0 ? later(steps - 1, fn) : fn()))
  let n = 1
  const valid = new Set(plan.expiredAtStart ? [] : ['at-1'])
  let currentRefresh = 'rt-1'
  /** Which account each access token was issued to. */
  const accountOf = new Map([['at-1', 1]])
  let account = 1
  const outcomes = [...plan.refreshOutcomes]
  const violations: string[] = []
  let expiryEvents = plan.expiredAtStart ? 1 : 0
  let failedFlights = 0
  let flights = 0
  let refreshesRunning = 0

  // Backoff timers become scheduled tasks. The refresh timeout never fires here: a timed-out refresh
  // that the server did process makes the retry present a retired refresh token, which is the
  // server's grace window's business (the unit tests cover timeouts).
  const clock: Clock = {
    now: () => 0,
    setTimeout(fn, ms) {
      const timer = { cancelled: ms >= 1000 }
      void s.schedule(Promise.resolve(), 'timer').then(() => timer.cancelled || fn())
      return timer
    },
    clearTimeout(timer) {
      ;(timer as { cancelled: boolean }).cancelled = true
    },
  }

  const issue = (): Credentials => {
    n++
    valid.add(`at-${n}`)
    accountOf.set(`at-${n}`, account)
    currentRefresh = `rt-${n}`
    return { accessToken: `at-${n}`, refreshToken: currentRefresh }
  }

  const relay = createTokenRelay({
    baseURL: API,
    clock,
    refreshTimeoutMs: 1000,
    storageTimeoutMs: 500,
    storage: plan.hungStorage ? { get: () => undefined, set: () => new Promise(() => {}), remove: () => new Promise(() => {}) } : undefined,
    retry: { attempts: 1, backoffMs: 1 },
    refresh: async ({ refreshToken, request }) => {
      if (++refreshesRunning > 1) violations.push('two refresh calls at once')
      try {
        return (await request({ url: '/auth/refresh', method: 'POST', data: { refreshToken } })).data as Credentials
      } finally {
        refreshesRunning--
      }
    },
    login: plan.login
      ? async ({ request }) => (await request({ url: '/auth/login', method: 'POST', data: { code: 'c' } })).data as Credentials
      : undefined,
    logger: { log() {}, warn() {} },
    transport: (req) => transport(req),
  })
  relay.on('refresh:start', (e) => {
    if (e.strategy !== 'refresh') return
    flights++
    const c = relay.getCredentials()
    if (c && valid.has(c.accessToken)) violations.push(`refresh while ${c.accessToken} still works`)
  })
  relay.on('refresh:failure', () => failedFlights++)

  function transport(req: RelayRequest): Promise<RelayResponse> {
    const token = req.header && req.header.Authorization ? req.header.Authorization.slice(7) : undefined
    const current = relay.getCredentials()
    // Where the request really goes is what the WHATWG parser says.
    const destination = (() => {
      try {
        return new URL(req.url, API).origin
      } catch {
        return null
      }
    })()
    if (token && destination !== API) violations.push(`token ${token} sent to ${JSON.stringify(req.url)} (${destination})`)
    const started = req.startedIn as number
    if (token && started && accountOf.get(token) !== started) violations.push(`a request of account ${started} sent with ${token} of account ${accountOf.get(token)}`)
    if (req.url.startsWith(API + '/api') && token && token !== (current && current.accessToken)) {
      violations.push(`stale token ${token} sent while ${current && current.accessToken} is current`)
    }
    let answer: RelayResponse | Error
    if (req.url.endsWith('/auth/refresh') || req.url.endsWith('/auth/login')) {
      const outcome = outcomes.shift() || 'ok'
      const rt = (req.data as { refreshToken?: string }).refreshToken
      if (req.url.endsWith('/auth/refresh') && rt !== currentRefresh) violations.push(`retired refresh token ${rt} presented`)
      answer =
        outcome === 'network'
          ? new Error('request:fail')
          : outcome === '503'
            ? { statusCode: 503 }
            : outcome === 'invalid_grant' || (req.url.endsWith('/auth/refresh') && rt !== currentRefresh)
              ? { statusCode: 400, data: { error: 'invalid_grant' } }
              : { statusCode: 200, data: issue() }
    } else {
      // The server checks the token on arrival; the answer may come back much later.
      answer = token && valid.has(token) ? { statusCode: 200, data: { token } } : { statusCode: 401 }
    }
    return s.schedule(Promise.resolve(), 'response ' + req.url).then(() => {
      if (answer instanceof Error) throw answer
      return answer
    })
  }

  // Not awaited: with a hung storage the write is bounded by a timer that only the scheduler fires.
  void relay.setCredentials({ accessToken: 'at-1', refreshToken: 'rt-1', ...(plan.expiredAtStart ? { expiresAt: -1 } : {}) })

  for (const at of plan.expiries) {
    void later(at, () => {
      valid.clear()
      expiryEvents++
    })
  }
  if (plan.logout !== null) void later(plan.logout, () => relay.clear())
  if (plan.switchAccount !== null) {
    void later(plan.switchAccount, () => {
      void relay.clear()
      account++
      void relay.setCredentials(issue())
    })
  }

  const settled: number[] = plan.requests.map(() => 0)
  const results: unknown[] = []
  const sends = plan.requests.map((r, i) => {
    const controller = new AbortController()
    if (r.abort !== null) void later(r.abort, () => controller.abort())
    const url = r.origin === 'hostile' ? HOSTILE[r.hostile] : `${r.origin === 'api' ? API : EVIL}/api/${i}`
    return later(r.start, () => {
      // The account the request starts in (0: logged out, so it may go out in the next one).
      const startedIn = relay.getCredentials() ? account : 0
      return relay.send({ url, method: 'GET', auth: exempt[i] ? false : undefined, signal: controller.signal, startedIn }, transport)
    }).then(
      (v) => ((settled[i]++, (results[i] = v))),
      (e) => ((settled[i]++, (results[i] = e))),
    )
  })

  // A request left pending forever would stall here: the race turns that into a failure.
  let guard: ReturnType<typeof setTimeout> | undefined
  await Promise.race([
    s.waitFor(Promise.all(sends)),
    new Promise((resolve) => (guard = setTimeout(resolve, 2000))),
  ])
  clearTimeout(guard)
  await s.waitAll()
  return { settled, results, violations, flights, expiryEvents, failedFlights, sends }
}

describe('property: random interleavings of requests, expiries, refresh outcomes, aborts, logouts, account switches, hung storage, expired credentials and hostile URLs', () => {
  it('every request settles once, refreshes ≤ episodes, no token to another host (new URL() decides) or of another account, no unhandled rejection', async () => {
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    try {
      await fc.assert(
        fc.asyncProperty(fc.scheduler(), planArb, fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }), async (s, plan, exemptRaw) => {
          const exempt = exemptRaw.map((b, i) => b && i % 3 === 0)
          const { settled, results, violations, flights, expiryEvents, failedFlights } = await runPlan(s, plan, exempt)
          expect(violations).toEqual([])
          expect(settled).toEqual(plan.requests.map(() => 1))
          expect(flights).toBeLessThanOrEqual(expiryEvents + failedFlights)
          for (const r of results) {
            // Every outcome is an HTTP answer or one of our typed errors: nothing else escapes.
            const ok = isTokenRelayError(r) || (r as RelayResponse).statusCode > 0
            expect(ok, String(r)).toBe(true)
            // With one expiry event a refreshed token is never refused, so a replay always succeeds. (After an
            // account switch a request sent logged out may spend its replay on the new account's token.)
            const episodes = plan.expiries.length + (plan.expiredAtStart ? 1 : 0)
            if (episodes <= 1 && plan.switchAccount === null && r instanceof TokenRelayError && r.code === 'REPLAY_LIMIT') {
              throw new Error('a fresh token was refused: ' + r.message)
            }
          }
        }),
        { numRuns: Number(process.env.FC_RUNS) || 10_000, seed: Number(process.env.FC_SEED) || 20261122 },
      )
      await new Promise((r) => setTimeout(r, 10))
      expect(unhandled).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  }, 60_000)
})
