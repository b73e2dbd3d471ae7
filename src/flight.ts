// The single flight: at most one refresh (or silent login) at a time, whose promise every waiting request
// shares. Retries with backoff on transient failures, a timeout per attempt, and a circuit breaker.
import { classifyError, configError } from './classify.js'
import { SessionExpiredError, TokenRelayError, isTokenRelayError } from './errors.js'
import type { Clock, Logger, NetworkStatus, TokenRelayOptions } from './options.js'
import type { Emit, Session } from './session.js'
import { readCredentials } from './session.js'
import type { Credentials, RefreshContext } from './types.js'

type Reason = RefreshContext['reason']
type Strategy = NonNullable<TokenRelayOptions['refresh']>

interface Flight {
  promise: Promise<void>
  resolve(): void
  reject(error: TokenRelayError): void
  reason: Reason
}

export interface FlightDeps {
  session: Session
  refresh?: Strategy
  login?: Strategy
  context(reason: Reason): RefreshContext
  attempts: number
  backoffMs: number
  maxBackoffMs: number
  timeoutMs: number
  maxRefreshes: number
  windowMs: number
  clock: Clock
  emit: Emit
  logger: Logger
  /**
   * Runs a flight's work, given the access token it started from (several tabs: under their shared lock, and
   * not at all when another tab has stored newer credentials meanwhile). @default runs it
   */
  exclusive?: (carried: string | undefined, work: () => Promise<boolean>) => Promise<boolean>
  network?: NetworkStatus
  offlineWaitMs: number
}

export type Flights = ReturnType<typeof createFlights>

export function createFlights(deps: FlightDeps) {
  const { session, refresh, login, attempts, backoffMs, maxBackoffMs, timeoutMs, clock, emit } = deps
  const exclusive = deps.exclusive || ((_: unknown, work: () => Promise<boolean>) => work())
  let current: Flight | null = null
  /** Bumps on clear()/setCredentials(): a flight started before then must not store its result. */
  let epoch = 0
  let times: number[] = []
  let hinted = false
  /** The last attempt's timeout by the clock: a mini program's timers stop in the background, `wake()` fires it. */
  let overdue = { at: Infinity, fire() {} }

  /** Waits while the network says offline: until it is back, or a transient `REFRESH_FAILED` after `offlineWaitMs`. */
  const online = (n = deps.network, ms = deps.offlineWaitMs) =>
    n &&
    n.online() === false &&
    new Promise<void>((resolve, reject) => {
      const timer = clock.setTimeout(
        () => (off(), reject(new TokenRelayError('REFRESH_FAILED', `the device was offline for ${ms} ms`, { transient: true }))),
        ms,
      )
      const off = n.onChange((up) => up && (off(), clock.clearTimeout(timer), resolve()))
    })

  /**
   * One strategy, with retries on transient failures, each once the network is there. An attempt the background
   * left past its timeout is retried once more, at once: it was the pause, not the server.
   */
  async function withRetries(strategy: Strategy, reason: Reason, myEpoch: number): Promise<unknown> {
    let resumed = false
    for (let i = 0; ; i++) {
      await online()
      let late = false
      try {
        return await new Promise((resolve, reject) => {
          const fail = () => reject(new TokenRelayError('REFRESH_TIMEOUT', `no answer within ${timeoutMs} ms`, { transient: true }))
          const timer = clock.setTimeout(fail, timeoutMs)
          overdue = { at: clock.now() + timeoutMs, fire: () => ((late = true), fail()) }
          // The context and the call in one tick: new credentials set in between would make the call present a
          // refresh token the server has already retired (reuse detection then revokes the session).
          Promise.resolve()
            .then(() => {
              if (myEpoch !== epoch) throw new TokenRelayError('LOGGED_OUT', 'superseded before it started')
              return strategy(deps.context(reason))
            })
            .then(resolve, reject)
            .then(() => clock.clearTimeout(timer))
        })
      } catch (e) {
        const error = classifyError(e, clock.now())
        if (late && !resumed) {
          resumed = true
          i--
          continue
        }
        if (!error.transient || i >= attempts) throw error
        const wait = Math.min(maxBackoffMs, Math.max(backoffMs * 2 ** i, error.retryAfterMs || 0))
        await new Promise<void>((wake) => clock.setTimeout(wake, wait))
        // Logged out (or handed new credentials) while backing off: the retry has nothing to present.
        if (myEpoch !== epoch) throw error
      }
    }
  }

  /** What a strategy returned, as credentials, or a `REFRESH_FAILED` that names what was wrong. */
  function credentialsFrom(value: unknown, strategy: string): Credentials {
    const read = readCredentials(value)
    if (typeof read !== 'string') return read
    if (!hinted) {
      hinted = true
      deps.logger.warn(
        `[tokenrelay] ${strategy} must resolve with { accessToken, refreshToken?, expiresIn? } (or access_token, refresh_token, expires_in), e.g. the response's data: it returned ${read}`,
      )
    }
    throw new TokenRelayError('REFRESH_FAILED', `${strategy} returned ${read}`)
  }

  async function run(f: Flight, myEpoch: number): Promise<void> {
    const { reason } = f
    let strategy: 'refresh' | 'login' = 'refresh'
    try {
      // Under the tabs' lock: true when this tab refreshed (false: another tab did, or a logout came first).
      const refreshed = await exclusive(session.creds ? session.creds.accessToken : undefined, async () => {
        if (myEpoch !== epoch) return false
        let next: Credentials
        try {
          if (!refresh || !session.creds?.refreshToken) throw new SessionExpiredError('no refresh token')
          emit('refresh:start', { reason, strategy })
          next = credentialsFrom(await withRetries(refresh, reason, myEpoch), strategy)
        } catch (e) {
          if (!login || !isTokenRelayError(e, 'SESSION_EXPIRED') || myEpoch !== epoch) throw e
          emit('refresh:start', { reason, strategy: (strategy = 'login') })
          next = credentialsFrom(await withRetries(login, reason, myEpoch), strategy)
        }
        if (myEpoch !== epoch) return false // clear() or setCredentials() already settled this flight
        // Written before any replay, so a crash after the replay cannot lose a rotated refresh token.
        await session.save(session.accept(next, true, session.creds?.refreshToken))
        if (myEpoch !== epoch) void session.save(session.creds)
        return true
      })
      if (myEpoch !== epoch) return
      if (refreshed) emit('refresh:success', { strategy })
      f.resolve()
    } catch (e) {
      if (myEpoch !== epoch) return
      const error = isTokenRelayError(e) ? e : configError('refresh failed', e)
      if (error.code === 'SESSION_EXPIRED') session.end(error)
      emit('refresh:failure', { error })
      f.reject(error)
    } finally {
      if (current === f) current = null
    }
  }

  return {
    get current() {
      return current
    },
    /** Back from the background: an attempt whose timeout passed on the clock while its timer was held fails now. */
    wake: () => void (clock.now() >= overdue.at && overdue.fire()),
    /** Starts a refresh, or joins the running one: every caller gets the same promise. */
    start(reason: Reason): Promise<void> {
      if (current) return current.promise
      const f = { reason } as Flight
      f.promise = new Promise<void>((resolve, reject) => Object.assign(f, { resolve, reject }))
      const now = clock.now()
      // Entries "in the future" (the clock was set back) leave the window too, or they would count forever.
      times = times.filter((t) => t <= now && now - t < deps.windowMs).concat(now)
      if (times.length > deps.maxRefreshes) {
        // Circuit breaker: a server that says "expired" to every fresh token would otherwise be refreshed forever.
        const error = new SessionExpiredError(`more than ${deps.maxRefreshes} refreshes in ${deps.windowMs} ms`)
        session.end(error)
        f.reject(error)
      } else void run((current = f), epoch)
      return f.promise
    },
    /** Settles the running flight from outside: new credentials (`error` absent) or a logout. Its result is discarded. */
    interrupt(error?: TokenRelayError): void {
      epoch++
      if (current) error ? current.reject(error) : current.resolve()
      current = null
    },
  }
}
