import { parseBody, pick } from './detect.js'
import { SessionExpiredError, TokenRelayError, isTokenRelayError } from './errors.js'
import type { TokenRelayOptions } from './options.js'
import { resolveOptions } from './options.js'
import type {
  AbortSignalLike,
  Credentials,
  RefreshContext,
  RelayEventName,
  RelayEvents,
  RelayRequest,
  RelayResponse,
  Transport,
} from './types.js'
import { originOf, resolveURL } from './url.js'

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

const SCHEME = /^[a-z][a-z\d+.-]*:/i
const noop = () => {}

function abortError(signal: AbortSignalLike, cause?: unknown): TokenRelayError {
  return new TokenRelayError('ABORTED', 'request aborted', { cause: cause ?? signal.reason })
}

/** Waits for `promise`, or rejects with `ABORTED` as soon as `signal` fires; the promise itself runs on. */
function abortable<T>(promise: Promise<T>, signal?: AbortSignalLike): Promise<T> {
  if (!signal) return promise
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal))
    // Subscribe first: a shared refresh that fails after its waiters left must not go unhandled.
    promise.then(resolve, reject).then(() => signal.removeEventListener('abort', onAbort))
    if (signal.aborted) return onAbort()
    signal.addEventListener('abort', onAbort)
  })
}

function validCredentials(value: unknown): value is Credentials {
  return !!value && typeof (value as Credentials).accessToken === 'string' && !!(value as Credentials).accessToken
}

export function createTokenRelay(options: TokenRelayOptions = {}): TokenRelay {
  const o = resolveOptions(options)
  const { clock, storage, storageKey, logger } = o
  const listeners: { [E in RelayEventName]?: ((payload: RelayEvents[E]) => void)[] } = {}
  const allowList =
    o.baseURL || o.origins
      ? [o.baseURL && originOf(o.baseURL), ...(o.origins || []).map((x) => (typeof x === 'string' ? originOf(x) || x : x))]
      : null
  const started = clock.now()

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
    if (o.debug) {
      const p = payload as { request?: RelayRequest; error?: TokenRelayError; reason?: string; strategy?: string }
      const what = p.request ? `${p.request.method || 'GET'} ${p.request.url}` : p.error ? p.error.code || p.error : p.strategy || ''
      logger.log(`[tokenrelay +${clock.now() - started}ms] ${name} ${what}${p.reason ? ' (' + p.reason + ')' : ''}`)
    }
    for (const fn of listeners[name] || []) {
      try {
        fn(payload)
      } catch (error) {
        logger.warn('[tokenrelay] listener failed', error)
      }
    }
  }

  async function persist(value: Credentials | null): Promise<void> {
    try {
      await (value ? storage.set(storageKey, JSON.stringify(value)) : storage.remove(storageKey))
    } catch (error) {
      // Quota or a broken storage: the credentials stay usable in memory.
      emit('error', { error })
    }
  }

  function load(raw: unknown): void {
    if (version) return // setCredentials() won the race with an async storage
    try {
      const value = typeof raw === 'string' ? JSON.parse(raw) : raw
      if (validCredentials(value)) accept(value, value)
    } catch {
      // Corrupt value: logged out.
    }
  }

  /** Adopts credentials, measuring expiry on arrival so a wrong device clock cannot cause a refresh storm. */
  function accept(next: Credentials, previous: Credentials | null): Credentials {
    const now = clock.now()
    let expiresAt =
      typeof next.expiresAt === 'number' ? next.expiresAt : typeof next.expiresIn === 'number' ? now + next.expiresIn * 1000 : undefined
    if (expiresAt === undefined && o.decodeToken) {
      try {
        const claims = o.decodeToken(next.accessToken)
        if (claims && typeof claims.exp === 'number') {
          expiresAt = typeof claims.iat === 'number' ? now + (claims.exp - claims.iat) * 1000 : claims.exp * 1000
        }
      } catch {
        // Not a token we can read: treat it as opaque.
      }
    }
    aheadMs = expiresAt === undefined ? 0 : Math.min(o.refreshAheadMs, (expiresAt - now) / 2)
    creds = { accessToken: next.accessToken }
    // Servers that do not rotate answer without a refresh token: keep the one we have.
    const refreshToken = next.refreshToken || (previous && previous.refreshToken)
    if (refreshToken) creds.refreshToken = refreshToken
    if (expiresAt !== undefined) creds.expiresAt = expiresAt
    version++
    ended = null
    emit('change', { credentials: { ...creds } })
    return creds
  }

  let ready: Promise<void>
  try {
    const raw = storage.get(storageKey)
    ready =
      raw && typeof (raw as Promise<unknown>).then === 'function'
        ? (raw as Promise<unknown>).then(load, (error) => emit('error', { error }))
        : Promise.resolve(load(raw))
  } catch (error) {
    ready = Promise.resolve()
    emit('error', { error })
  }

  function allowed(url: string): boolean {
    if (!allowList) {
      if (!warned) logger.warn('[tokenrelay] neither baseURL nor origins is set: the token goes to every host')
      return (warned = true)
    }
    const origin = originOf(url)
    // A relative URL with no baseURL stays on the page's own origin (H5); `//host` and `\\host` do not.
    if (!origin) return !SCHEME.test(url) && !/^[\\/]{2}/.test(url)
    return allowList.some((x) => (typeof x === 'string' ? x === origin : !!x && x.test(origin)))
  }

  function classify(response: RelayResponse, request: RelayRequest): TokenRelayError | null {
    const status = response.statusCode
    if (
      status === 400 ||
      status === 401 ||
      status === 403 ||
      pick(parseBody(response.data), 'error') === 'invalid_grant' ||
      o.isExpired(response, request)
    ) {
      return new SessionExpiredError(`${request.url} answered ${status}`, response)
    }
    return status >= 200 && status < 300
      ? null
      : new TokenRelayError('REFRESH_FAILED', `${request.url} answered ${status}`, { cause: response, transient: true })
  }

  function toRelayError(error: unknown): TokenRelayError {
    if (isTokenRelayError(error)) return error
    // Errors from the user's own HTTP client often carry the status (clients that reject non-2xx answers).
    const e = error as { statusCode?: number; status?: number; data?: unknown }
    const status = e && (e.statusCode || e.status)
    if (typeof status === 'number') {
      const classified = classify({ statusCode: status, data: e.data }, { url: 'refresh' })
      if (classified) return classified
    }
    return new TokenRelayError('REFRESH_FAILED', 'refresh failed', { cause: error, transient: true })
  }

  function context(reason: RefreshContext['reason']): RefreshContext {
    return {
      refreshToken: creds ? creds.refreshToken : undefined,
      credentials: creds && { ...creds },
      reason,
      async request(request) {
        const transport = o.transport || lastTransport
        if (!transport) throw new TokenRelayError('REFRESH_FAILED', 'no transport: pass `transport` to createTokenRelay')
        const req = { ...request, url: resolveURL(request.url, o.baseURL), header: { ...request.header }, auth: false }
        let response: RelayResponse
        try {
          response = await transport(req)
        } catch (cause) {
          throw new TokenRelayError('REFRESH_FAILED', `${req.url} failed`, { cause, transient: true })
        }
        const error = classify(response, req)
        if (error) throw error
        return response
      },
    }
  }

  function withTimeout<T>(promise: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = clock.setTimeout(
        () => reject(new TokenRelayError('REFRESH_TIMEOUT', `no answer within ${o.refreshTimeoutMs} ms`, { transient: true })),
        o.refreshTimeoutMs,
      )
      promise.then(resolve, reject).then(() => clock.clearTimeout(timer))
    })
  }

  async function attempt(strategy: NonNullable<TokenRelayOptions['refresh']>, reason: RefreshContext['reason'], myEpoch: number) {
    for (let i = 0; ; i++) {
      try {
        return await withTimeout(Promise.resolve().then(() => strategy(context(reason))))
      } catch (e) {
        const error = toRelayError(e)
        if (!error.transient || i >= o.retries) throw error
        await new Promise((r) => clock.setTimeout(() => r(undefined), o.backoffMs * 2 ** i))
        // Logged out (or handed new credentials) while backing off: the retry has nothing to present.
        if (myEpoch !== epoch) throw error
      }
    }
  }

  function endSession(error: TokenRelayError): void {
    creds = null
    version++
    ended = error
    emit('change', { credentials: null })
    void persist(null)
    emit('session-expired', { error })
    try {
      o.onSessionExpired && o.onSessionExpired(error)
    } catch (e) {
      emit('error', { error: e })
    }
  }

  async function run(f: Flight, myEpoch: number): Promise<void> {
    const reason = f.reason
    let strategy: 'refresh' | 'login' = 'refresh'
    try {
      let next: Credentials
      try {
        if (!o.refresh || !creds || !creds.refreshToken) throw new SessionExpiredError('no refresh token')
        emit('refresh:start', { reason, strategy })
        next = await attempt(o.refresh, reason, myEpoch)
      } catch (e) {
        if (!o.login || !isTokenRelayError(e, 'SESSION_EXPIRED')) throw e
        strategy = 'login'
        emit('refresh:start', { reason, strategy })
        next = await attempt(o.login, reason, myEpoch)
      }
      if (myEpoch !== epoch) return // clear() or setCredentials() already settled this flight
      if (!validCredentials(next)) throw new TokenRelayError('REFRESH_FAILED', `${strategy} returned no accessToken`)
      const stored = accept(next, creds)
      // Written before any replay, so a crash after the replay cannot lose a rotated refresh token.
      await persist(stored)
      if (myEpoch !== epoch) return void persist(creds)
      emit('refresh:success', { strategy })
      f.resolve()
    } catch (e) {
      if (myEpoch !== epoch) return
      const error = toRelayError(e)
      if (error.code === 'SESSION_EXPIRED') endSession(error)
      emit('refresh:failure', { error })
      f.reject(error)
    } finally {
      if (flight === f) flight = null
    }
  }

  /** Single flight: every caller gets the same promise. */
  function startRefresh(reason: RefreshContext['reason']): Promise<void> {
    if (flight) return flight.promise
    let resolve = noop
    let reject: (e: TokenRelayError) => void = noop
    const promise = new Promise<void>((a, b) => ((resolve = a), (reject = b)))
    const f: Flight = { promise, resolve, reject, reason }
    const now = clock.now()
    refreshTimes = refreshTimes.filter((t) => now - t < o.windowMs).concat(now)
    if (refreshTimes.length > o.maxRefreshes) {
      const error = new SessionExpiredError(`more than ${o.maxRefreshes} refreshes in ${o.windowMs} ms`)
      endSession(error)
      reject(error)
      return promise
    }
    flight = f
    void run(f, epoch)
    return promise
  }

  function guarded(request: RelayRequest, url: string): boolean {
    return request.auth !== false && allowed(url)
  }

  function stamp(request: RelayRequest): Stamped {
    const url = resolveURL(request.url, o.baseURL)
    const out: RelayRequest = { ...request, url, header: { ...request.header } }
    if (creds && !flight && guarded(request, url)) o.attach(out, creds)
    return { request: out, version }
  }

  async function send(request: RelayRequest, transport: Transport, first?: Stamped & { response: RelayResponse }): Promise<RelayResponse> {
    lastTransport = lastTransport || transport
    await ready
    const { signal } = request
    const url = resolveURL(request.url, o.baseURL)
    if (!guarded(request, url)) return first ? first.response : transport({ ...request, url })
    let replays = 0
    let waitedAhead = !!first
    for (;;) {
      if (signal && signal.aborted) throw abortError(signal)
      const due = creds ? aheadMs > 0 && clock.now() >= creds.expiresAt! - aheadMs : !!o.login
      if (flight || (!waitedAhead && !ended && due)) {
        const reason = flight ? flight.reason : creds ? 'ahead' : 'login'
        waitedAhead = true
        emit('queued', { request })
        try {
          await abortable(startRefresh(reason), signal)
        } catch (error) {
          // An early refresh that failed for a transient reason leaves a token that still works.
          if (!(reason === 'ahead' && creds && (error as TokenRelayError).transient)) throw error
        }
        continue
      }
      let sentVersion = version
      let attemptRequest: RelayRequest = { ...request, url, header: { ...request.header } }
      let response: RelayResponse
      if (first) {
        ;({ request: attemptRequest, version: sentVersion, response } = first)
        first = undefined
      } else {
        if (creds) o.attach(attemptRequest, creds)
        try {
          response = await transport(attemptRequest)
        } catch (error) {
          throw signal && signal.aborted ? abortError(signal, error) : error
        }
      }
      if (!o.isExpired(response, attemptRequest)) return response
      if (replays >= o.maxReplays) {
        throw new TokenRelayError('REPLAY_LIMIT', `${url} still expired after ${replays} replay(s)`, { cause: response })
      }
      if (version === sentVersion) {
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
    isExpired: (response, request) => o.isExpired(response, request),
    ready,
    get refreshing() {
      return !!flight
    },
    getCredentials: () => creds && { ...creds },
    isAllowed: (url) => allowed(resolveURL(url, o.baseURL)),
    setCredentials(credentials) {
      if (!validCredentials(credentials)) throw new TypeError('[tokenrelay] setCredentials needs { accessToken: string }')
      epoch++
      const stored = accept(credentials, null)
      if (flight) flight.resolve()
      flight = null
      return persist(stored)
    },
    clear() {
      epoch++
      version++
      creds = null
      ended = new TokenRelayError('LOGGED_OUT', 'logged out')
      if (flight) flight.reject(ended)
      flight = null
      emit('change', { credentials: null })
      return persist(null)
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
