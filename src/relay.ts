import { expiryDetector, parseBody, pick } from './detect.js'
import { SessionExpiredError, TokenRelayError, isTokenRelayError } from './errors.js'
import type { Clock, Logger, TokenRelayOptions } from './options.js'
import type {
  AbortSignalLike,
  Credentials,
  RefreshContext,
  RelayEventName,
  RelayEvents,
  RelayRequest,
  RelayResponse,
  TokenStorage,
  Transport,
} from './types.js'
import { SCHEME, originOf, resolveURL } from './url.js'

export interface TokenRelay {
  /**
   * The one entry point adapters call: attaches the token, detects expiry, refreshes once, replays.
   * `first` hands over a response that already arrived for a request prepared with `stamp()`
   * (interceptor platforms that cannot wait before sending); the relay takes over from there.
   */
  send(request: RelayRequest, transport: Transport, first?: Stamped & { response: RelayResponse }): Promise<RelayResponse>
  /**
   * Synchronously prepares a request the platform will send itself: resolves the URL and attaches the
   * token when allowed. While a refresh is running no token is attached (the answer is replayed anyway).
   */
  stamp(request: RelayRequest): Stamped
  /** Whether `response` says the token expired (the `expired`/`isExpired` options). */
  isExpired(response: RelayResponse, request: RelayRequest): boolean
  /** Store credentials obtained by your own login. Resolves once written to storage. */
  setCredentials(credentials: Credentials): Promise<void>
  getCredentials(): Credentials | null
  /** Log out: forget credentials, discard a running refresh, reject waiting requests with `LOGGED_OUT`. */
  clear(): Promise<void>
  /** Refresh now (or join the running refresh). Falls back to `login` like an expiry would. */
  refresh(): Promise<Credentials>
  on<E extends RelayEventName>(event: E, listener: (payload: RelayEvents[E]) => void): () => void
  /** Whether `url` may receive the token (after resolving it against `baseURL`). */
  isAllowed(url: string): boolean
  /** Settles when stored credentials have been read. */
  readonly ready: Promise<void>
  readonly refreshing: boolean
}

/** A request ready for the platform, and the credentials version it carries. */
export interface Stamped {
  request: RelayRequest
  version: number
}

interface Flight {
  promise: Promise<void>
  resolve(): void
  reject(error: TokenRelayError): void
  reason: RefreshContext['reason']
}

// Every JS host has these; declared here because the build has no DOM or Node types, and looked up at
// call time so fake timers in tests apply. No `globalThis`: older mini program engines lack it.
declare const setTimeout: (fn: () => void, ms: number) => unknown
declare const clearTimeout: (id: unknown) => void
declare const console: Logger

const defaultClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id),
}

function memoryStorage(): TokenStorage {
  const map: Record<string, string> = {}
  return {
    get: (key) => map[key],
    set: (key, value) => void (map[key] = value),
    remove: (key) => void delete map[key],
  }
}

const bearer = (request: RelayRequest, credentials: Credentials) => void (request.header!.Authorization = 'Bearer ' + credentials.accessToken)

const abortError = (signal: AbortSignalLike, cause = signal.reason) => new TokenRelayError('ABORTED', 'request aborted', { cause })

/** Waits for `promise`, or rejects with `ABORTED` as soon as `signal` fires; the promise itself runs on. */
function abortable<T>(promise: Promise<T>, signal?: AbortSignalLike): Promise<T> {
  return signal
    ? new Promise<T>((resolve, reject) => {
        const onAbort = () => reject(abortError(signal))
        // Subscribe first: a shared refresh that fails after its waiters left must not go unhandled.
        promise.then(resolve, reject).then(() => signal.removeEventListener('abort', onAbort))
        signal.aborted ? onAbort() : signal.addEventListener('abort', onAbort)
      })
    : promise
}

const valid = (value: unknown): value is Credentials => !!value && typeof (value as Credentials).accessToken == 'string' && !!(value as Credentials).accessToken

const transient = (message: string, cause?: unknown) => new TokenRelayError('REFRESH_FAILED', message, { cause, transient: true })

export function createTokenRelay(options: TokenRelayOptions = {}): TokenRelay {
  // Defaults in one place.
  const {
    baseURL,
    origins,
    login,
    decodeToken,
    onSessionExpired,
    isExpired = expiryDetector(options.expired),
    attach = bearer,
    storage = memoryStorage(),
    storageKey = 'tokenrelay',
    refreshAheadMs = 60_000,
    refreshTimeoutMs = 10_000,
    maxReplays = 1,
    retry: { attempts = 2, backoffMs = 300 } = {},
    circuit: { maxRefreshes = 5, windowMs = 60_000 } = {},
    clock = defaultClock,
    logger = console,
  } = options
  const allowList = baseURL || origins ? [baseURL, ...(origins || [])].map((x) => (typeof x == 'string' ? originOf(x) : x)) : null
  const listeners: { [E in RelayEventName]?: ((payload: RelayEvents[E]) => void)[] } = {}

  let creds: Credentials | null = null
  /** Bumps on every credentials change: an "expired" answer to an older version is replayed, not refreshed. */
  let version = 0
  /** Bumps on clear()/setCredentials(): a refresh started before then must not store its result. */
  let epoch = 0
  /** Set when the session ended (or the user logged out) until new credentials arrive. */
  let ended: TokenRelayError | null = null
  let flight: Flight | null = null
  let aheadMs = 0
  let refreshTimes: number[] = []
  let lastTransport: Transport | undefined
  let warned = false

  function emit<E extends RelayEventName>(name: E, payload: RelayEvents[E]): void {
    for (const fn of listeners[name] || []) {
      try {
        fn(payload)
      } catch (error) {
        logger.warn('[tokenrelay] listener failed', error)
      }
    }
  }
  const reportError = (error: unknown) => emit('error', { error })

  async function persist(value: Credentials | null): Promise<void> {
    try {
      await (value ? storage.set(storageKey, JSON.stringify(value)) : storage.remove(storageKey))
    } catch (error) {
      // Quota or a broken storage: the credentials stay usable in memory.
      reportError(error)
    }
  }

  function load(raw: unknown): void {
    if (version) return // setCredentials() won the race with an async storage
    try {
      const value = typeof raw == 'string' ? JSON.parse(raw) : raw
      if (valid(value)) accept(value, value)
    } catch {
      // Corrupt value: logged out.
    }
  }

  /** Adopts credentials, measuring expiry on arrival so a wrong device clock cannot cause a refresh storm. */
  function accept(next: Credentials, previous: Credentials | null): Credentials {
    const now = clock.now()
    let expiresAt = typeof next.expiresAt == 'number' ? next.expiresAt : typeof next.expiresIn == 'number' ? now + next.expiresIn * 1000 : undefined
    if (expiresAt == null && decodeToken) {
      try {
        const { exp, iat } = decodeToken(next.accessToken) || {}
        if (typeof exp == 'number') expiresAt = typeof iat == 'number' ? now + (exp - iat) * 1000 : exp * 1000
      } catch {
        // Not a token we can read: treat it as opaque.
      }
    }
    aheadMs = expiresAt == null ? 0 : Math.min(refreshAheadMs, (expiresAt - now) / 2)
    // Servers that do not rotate answer without a refresh token: keep the one we have.
    const refreshToken = next.refreshToken || previous?.refreshToken
    const adopted: Credentials = (creds = { accessToken: next.accessToken })
    if (refreshToken) adopted.refreshToken = refreshToken
    if (expiresAt != null) adopted.expiresAt = expiresAt
    version++
    ended = null
    emit('change', { credentials: { ...adopted } })
    return adopted
  }

  let ready: Promise<void>
  try {
    const raw = storage.get(storageKey)
    ready = raw && typeof (raw as Promise<unknown>).then == 'function' ? (raw as Promise<unknown>).then(load, reportError) : Promise.resolve(load(raw))
  } catch (error) {
    ready = Promise.resolve(reportError(error))
  }

  function allowed(url: string): boolean {
    if (!allowList) {
      if (!warned) logger.warn('[tokenrelay] no baseURL or origins: the token goes to every host')
      return (warned = true)
    }
    const origin = originOf(url)
    // A relative URL with no baseURL stays on the page's own origin (H5); `//host` and `\\host` do not.
    return origin ? allowList.some((x) => (typeof x == 'string' ? x == origin : !!x && x.test(origin))) : !SCHEME.test(url) && !/^[\\/]{2}/.test(url)
  }

  /**
   * Why a refresh or login call failed: refused (400/401/403, `invalid_grant`, an expiry answer) ends the
   * session; any other non-2xx is transient. Null for a 2xx that is not an expiry answer.
   */
  function failure(response: RelayResponse, url: string, cause: unknown = response): TokenRelayError | null {
    const status = response.statusCode
    return [400, 401, 403].indexOf(status) >= 0 || pick(parseBody(response.data), 'error') == 'invalid_grant' || isExpired(response, { url })
      ? new SessionExpiredError(`${url} answered ${status}`, cause)
      : status >= 200 && status < 300
        ? null
        : transient(`${url} answered ${status}`, cause)
  }

  function toRelayError(error: unknown): TokenRelayError {
    // Errors from the user's own HTTP client often carry the status (clients that reject non-2xx answers).
    const e = error as { statusCode?: number; status?: number; data?: unknown } | null
    const status = e && (e.statusCode || e.status)
    return isTokenRelayError(error)
      ? error
      : (typeof status == 'number' && failure({ statusCode: status, data: e!.data }, 'refresh', error)) || transient('refresh failed', error)
  }

  const context = (reason: RefreshContext['reason']): RefreshContext => ({
    refreshToken: creds?.refreshToken,
    credentials: creds && { ...creds },
    reason,
    async request(request) {
      const transport = options.transport || lastTransport
      if (!transport) throw new TokenRelayError('REFRESH_FAILED', 'no transport: pass `transport` to createTokenRelay')
      const req = { ...request, url: resolveURL(request.url, baseURL), header: { ...request.header }, auth: false }
      const response = await transport(req).catch((cause) => {
        throw transient(`${req.url} failed`, cause)
      })
      const error = failure(response, req.url)
      if (error) throw error
      return response
    },
  })

  async function attempt(strategy: NonNullable<TokenRelayOptions['refresh']>, reason: RefreshContext['reason'], myEpoch: number) {
    for (let i = 0; ; i++) {
      try {
        return await new Promise<Credentials>((resolve, reject) => {
          const timer = clock.setTimeout(
            () => reject(new TokenRelayError('REFRESH_TIMEOUT', `no answer within ${refreshTimeoutMs} ms`, { transient: true })),
            refreshTimeoutMs,
          )
          Promise.resolve(reason)
            .then(context)
            .then(strategy)
            .then(resolve, reject)
            .then(() => clock.clearTimeout(timer))
        })
      } catch (e) {
        const error = toRelayError(e)
        if (!error.transient || i >= attempts) throw error
        await new Promise<void>((wake) => clock.setTimeout(wake, backoffMs * 2 ** i))
        // Logged out (or handed new credentials) while backing off: the retry has nothing to present.
        if (myEpoch != epoch) throw error
      }
    }
  }

  /** Forgets the credentials: the session ended (`SESSION_EXPIRED`) or the user logged out. */
  function forget(error: TokenRelayError): Promise<void> {
    creds = null
    version++
    ended = error
    emit('change', { credentials: null })
    return persist(null)
  }

  function endSession(error: TokenRelayError): void {
    void forget(error)
    emit('session-expired', { error })
    try {
      onSessionExpired && onSessionExpired(error)
    } catch (e) {
      reportError(e)
    }
  }

  async function run(f: Flight, myEpoch: number): Promise<void> {
    const { reason } = f
    let strategy: 'refresh' | 'login' = 'refresh'
    try {
      let next: Credentials
      try {
        if (!options.refresh || !creds?.refreshToken) throw new SessionExpiredError('no refresh token')
        emit('refresh:start', { reason, strategy })
        next = await attempt(options.refresh, reason, myEpoch)
      } catch (e) {
        if (!login || !isTokenRelayError(e, 'SESSION_EXPIRED')) throw e
        emit('refresh:start', { reason, strategy: (strategy = 'login') })
        next = await attempt(login, reason, myEpoch)
      }
      if (myEpoch != epoch) return // clear() or setCredentials() already settled this flight
      if (!valid(next)) throw new TokenRelayError('REFRESH_FAILED', `${strategy} returned no accessToken`)
      // Written before any replay, so a crash after the replay cannot lose a rotated refresh token.
      await persist(accept(next, creds))
      if (myEpoch != epoch) return void persist(creds)
      emit('refresh:success', { strategy })
      f.resolve()
    } catch (e) {
      if (myEpoch != epoch) return
      const error = toRelayError(e)
      if (error.code == 'SESSION_EXPIRED') endSession(error)
      emit('refresh:failure', { error })
      f.reject(error)
    } finally {
      if (flight == f) flight = null
    }
  }

  /** Single flight: every caller gets the same promise. */
  function startRefresh(reason: RefreshContext['reason']): Promise<void> {
    if (flight) return flight.promise
    const f = { reason } as Flight
    f.promise = new Promise<void>((resolve, reject) => Object.assign(f, { resolve, reject }))
    const now = clock.now()
    refreshTimes = refreshTimes.filter((t) => now - t < windowMs).concat(now)
    if (refreshTimes.length > maxRefreshes) {
      // Circuit breaker: a server that says "expired" to every fresh token would otherwise be refreshed forever.
      const error = new SessionExpiredError(`more than ${maxRefreshes} refreshes in ${windowMs} ms`)
      endSession(error)
      f.reject(error)
    } else void run((flight = f), epoch)
    return f.promise
  }

  const guarded = (request: RelayRequest, url: string) => request.auth !== false && allowed(url)

  /** The request as it goes out: URL resolved, headers copied (attach mutates them), token attached when `withToken`. */
  function outgoing(request: RelayRequest, url: string, withToken: boolean): RelayRequest {
    const out: RelayRequest = { ...request, url, header: { ...request.header } }
    if (withToken && creds) attach(out, creds)
    return out
  }

  function stamp(request: RelayRequest): Stamped {
    const url = resolveURL(request.url, baseURL)
    return { request: outgoing(request, url, !flight && guarded(request, url)), version }
  }

  async function send(request: RelayRequest, transport: Transport, first?: Stamped & { response: RelayResponse }): Promise<RelayResponse> {
    lastTransport = lastTransport || transport
    await ready
    const { signal } = request
    const url = resolveURL(request.url, baseURL)
    if (!guarded(request, url)) return first ? first.response : transport({ ...request, url })
    let replays = 0
    let waitedAhead = !!first
    for (;;) {
      if (signal?.aborted) throw abortError(signal)
      const due = creds ? aheadMs > 0 && clock.now() >= creds.expiresAt! - aheadMs : !!login
      if (flight || (!waitedAhead && !ended && due)) {
        const reason = flight ? flight.reason : creds ? 'ahead' : 'login'
        waitedAhead = true
        emit('queued', { request })
        try {
          await abortable(startRefresh(reason), signal)
        } catch (error) {
          // An early refresh that failed for a transient reason leaves a token that still works.
          if (!(reason == 'ahead' && creds && (error as TokenRelayError).transient)) throw error
        }
        continue
      }
      const sentVersion = first ? first.version : version
      const sent = first ? first.request : outgoing(request, url, true)
      let response: RelayResponse
      if (first) {
        response = first.response
        first = undefined
      } else {
        try {
          response = await transport(sent)
        } catch (error) {
          throw signal?.aborted ? abortError(signal, error) : error
        }
      }
      if (!isExpired(response, sent)) return response
      if (replays >= maxReplays) throw new TokenRelayError('REPLAY_LIMIT', `${url} still expired after ${replays} replay(s)`, { cause: response })
      if (version == sentVersion) {
        if (ended) throw ended
        await abortable(startRefresh('expired'), signal)
      } else if (!creds && ended) {
        throw ended
      }
      replays++
      emit('replay', { request, attempt: replays })
    }
  }

  return {
    send,
    stamp,
    isExpired,
    ready,
    get refreshing() {
      return !!flight
    },
    getCredentials: () => creds && { ...creds },
    isAllowed: (url) => allowed(resolveURL(url, baseURL)),
    setCredentials(credentials) {
      if (!valid(credentials)) throw new TypeError('[tokenrelay] setCredentials needs { accessToken: string }')
      epoch++
      const stored = accept(credentials, null)
      flight?.resolve()
      flight = null
      return persist(stored)
    },
    clear() {
      const error = new TokenRelayError('LOGGED_OUT', 'logged out')
      epoch++
      flight?.reject(error)
      flight = null
      return forget(error)
    },
    async refresh() {
      await ready
      ended = null
      await startRefresh('manual')
      if (!creds) throw ended || new SessionExpiredError()
      return { ...creds }
    },
    on(event, listener) {
      const list = (listeners[event] = listeners[event] || []) as (typeof listener)[]
      list.push(listener)
      return () => void list.splice(list.indexOf(listener) >>> 0, 1)
    },
  }
}
