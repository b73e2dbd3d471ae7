import { authRequest, configError, guard } from './classify.js'
import { expiryDetector } from './detect.js'
import { createEmitter } from './events.js'
import { SessionExpiredError, TokenRelayError } from './errors.js'
import { createFlights } from './flight.js'
import type { TokenRelayOptions } from './options.js'
import { abortError, abortable, bearer, defaultClock, defaultLogger, memoryStorage } from './defaults.js'
import { withAuthRequests } from './auth.js'
import { createSession, readCredentials } from './session.js'
import type { Credentials, RefreshContext, RelayEventName, RelayEvents, RelayRequest, RelayResponse, Stamped, Transport } from './types.js'
import { allowList, resolveURL } from './url.js'

export interface TokenRelay {
  /** The one entry point adapters call: attaches the token, detects expiry, refreshes once, replays. */
  send(request: RelayRequest, transport: Transport): Promise<RelayResponse>
  /**
   * Takes over a request the platform already sent as `stamp()` prepared it, from its answer on: returns it,
   * or refreshes and replays like `send` (interceptor platforms that cannot wait before sending).
   */
  receive(request: RelayRequest, transport: Transport, answer: Stamped & { response: RelayResponse }): Promise<RelayResponse>
  /**
   * Synchronously prepares a request the platform will send itself: resolves the URL and attaches the
   * token when allowed. While a refresh is running no token is attached (the answer is replayed anyway).
   */
  stamp(request: RelayRequest): Stamped
  /** Whether `response` says the token expired (the `expired`/`isExpired` options). */
  isExpired(response: RelayResponse, request: RelayRequest): boolean
  /** Store credentials obtained by your own login. Resolves once written to storage (or after `storageTimeoutMs`). */
  setCredentials(credentials: Credentials): Promise<void>
  getCredentials(): Credentials | null
  /** Log out: forget credentials, discard a running refresh, reject waiting requests with `LOGGED_OUT`. */
  clear(): Promise<void>
  /** Refresh now (or join the running refresh). Falls back to `login` like an expiry would. */
  refresh(): Promise<Credentials>
  on<E extends RelayEventName>(event: E, listener: (payload: RelayEvents[E]) => void): () => void
  /** Whether `url` may receive the token (after resolving it against `baseURL`). */
  isAllowed(url: string): boolean
  /** Settles when stored credentials have been read (or after `storageTimeoutMs`). */
  readonly ready: Promise<void>
  readonly refreshing: boolean
  /**
   * Whether `send()` would hold `request` before it goes out: storage not read yet, a login or refresh running,
   * or one due. For interceptor platforms that decide synchronously whether to let a request go.
   */
  wouldWait(request: RelayRequest): boolean
  /** On app show (adapters call it): a refresh the background left past its timeout retries, a passed expiry refreshes now. */
  wake(): void
}

export function createTokenRelay(options: TokenRelayOptions = {}): TokenRelay {
  // Defaults in one place.
  const {
    baseURL,
    origins,
    refresh,
    login,
    isExpired = expiryDetector(options.expired),
    attach = bearer,
    storage = memoryStorage(),
    storageKey = 'tokenrelay',
    storageTimeoutMs = 2_000,
    refreshAheadMs = 60_000,
    refreshTimeoutMs = 10_000,
    offlineWaitMs = 30_000,
    network,
    maxReplays = 1,
    retry: { attempts = 2, backoffMs = 300, maxBackoffMs = 5_000 } = {},
    circuit: { maxRefreshes = 5, windowMs = 60_000 } = {},
    clock = defaultClock,
    logger = defaultLogger,
  } = options
  const allowed = allowList(baseURL, origins, logger)
  // How long a tab waits for another's refresh (crossTab): each of its attempts timed out, the backoff between,
  // and the wait for the network before each.
  const waitMs = (attempts + 1) * (refreshTimeoutMs + maxBackoffMs + (network ? offlineWaitMs : 0))
  const { emit, on } = createEmitter(logger)
  let lastTransport: Transport | undefined
  const session = createSession({
    ...options,
    storage,
    storageKey,
    storageTimeoutMs,
    refreshAheadMs,
    clock,
    emit,
    warn: (message, error) => (logger.warn(message, ...(error ? [error] : [])), emit('error', { error: error || new Error(message) })),
  })
  const flights = createFlights({
    session,
    refresh,
    login,
    attempts,
    backoffMs,
    maxBackoffMs,
    timeoutMs: refreshTimeoutMs,
    maxRefreshes,
    windowMs,
    clock,
    emit,
    logger,
    exclusive:
      options.crossTab && options.crossTab.join({ session, flights: () => flights, storage, storageKey, storageTimeoutMs, clock, waitMs }),
    network,
    offlineWaitMs,
    context: (reason): RefreshContext => ({
      refreshToken: session.creds?.refreshToken,
      credentials: session.creds && { ...session.creds },
      reason,
      request: authRequest(() => options.transport || lastTransport, baseURL, clock, isExpired),
    }),
  })

  const mayCarryToken = (request: RelayRequest, url: string) => request.auth !== false && allowed(url)

  /** The request as it goes out: URL resolved, headers copied (attach mutates them), token attached when `withToken`. */
  function outgoing(request: RelayRequest, url: string, withToken: boolean): RelayRequest {
    const out: RelayRequest = { ...request, url, header: { ...request.header } }
    const creds = session.creds
    if (withToken && creds && guard('attach', attach, out, creds) != null) {
      throw configError('attach must set the header synchronously and return nothing (it returned a value)')
    }
    return out
  }

  /**
   * Why a request should wait for a refresh before going out: a known expiry that has passed or is near,
   * or no credentials yet with a login strategy. Without a way to refresh, a token is used until it has
   * really expired (then the flight ends the session).
   */
  function due(): RefreshContext['reason'] | null {
    const creds = session.creds
    if (!creds) return login ? 'login' : null
    const state = session.due()
    return state === 'expired' || (state === 'ahead' && ((refresh && creds.refreshToken) || login)) ? state : null
  }

  const loggedOut = () => session.ended || new TokenRelayError('LOGGED_OUT', 'the session this request started in has ended')

  /** The one loop behind send() and receive(): wait, send, and on an expiry answer refresh once and replay. */
  async function loop(request: RelayRequest, transport: Transport, first?: Stamped & { response: RelayResponse }): Promise<RelayResponse> {
    lastTransport = lastTransport || transport
    const { signal } = request
    const url = resolveURL(request.url, baseURL)
    if (!mayCarryToken(request, url)) return first ? first.response : transport({ ...request, url })
    /** The session this request belongs to: the one it started in, or (started logged out) the first it goes out in. */
    let mine = first ? first.session : session.creds ? session.id : 0
    await session.ready
    let replays = 0
    let waited = !!first
    for (;;) {
      if (signal?.aborted) throw abortError(signal)
      if (mine && mine !== session.id) throw loggedOut()
      const creds = session.creds
      const reason = flights.current ? flights.current.reason : waited || session.ended ? null : due()
      if (reason) {
        waited = true
        emit('queued', { request })
        try {
          await abortable(flights.start(reason), signal)
        } catch (error) {
          // An early refresh that failed for a transient reason leaves a token that still works.
          if (!(reason === 'ahead' && session.creds && (error as TokenRelayError).transient)) throw error
        }
        continue
      }
      const sentVersion = first ? first.version : session.version
      let sent: RelayRequest
      let response: RelayResponse
      if (first) {
        ;({ request: sent, response } = first)
        first = undefined
      } else {
        sent = outgoing(request, url, true)
        mine = mine || (creds ? session.id : 0)
        try {
          response = await transport(sent)
        } catch (error) {
          throw signal?.aborted ? abortError(signal, error) : error
        }
      }
      if (!guard('isExpired', isExpired, response, sent)) return response
      // An account switch while it was out: the answer belongs to the old session, never replayed in the new one.
      if (mine && mine !== session.id) throw loggedOut()
      if (sentVersion < 0) {
        waited = false // it went out without the token: no replay spent; now it may wait for a login or refresh
        continue
      }
      if (replays >= maxReplays)
        throw new TokenRelayError('REPLAY_LIMIT', `${url} still expired after ${replays} replay(s)`, { cause: response })
      if (session.version === sentVersion) {
        if (session.ended) throw session.ended
        await abortable(flights.start('expired'), signal)
      } else if (!session.creds && session.ended) {
        throw session.ended
      }
      replays++
      emit('replay', { request, attempt: replays })
    }
  }

  return withAuthRequests(options, outgoing, session, emit, logger, {
    send: (request, transport) => loop(request, transport),
    receive: loop,
    isExpired,
    ready: session.ready,
    get refreshing() {
      return !!flights.current
    },
    wouldWait: (request) =>
      mayCarryToken(request, resolveURL(request.url, baseURL)) && (!session.loaded || !!flights.current || (!session.ended && !!due())),
    stamp(request) {
      const url = resolveURL(request.url, baseURL)
      const token = !flights.current && mayCarryToken(request, url) && !!session.creds
      // Sent without the token while a refresh runs or a login is due: version -1 says its expiry answer is no
      // news, so it is sent again once that is done, spending no replay and starting no refresh of its own.
      const pending = !token && (!!flights.current || (!session.creds && !!login && !session.ended))
      return { request: outgoing(request, url, token), version: pending ? -1 : session.version, session: session.creds ? session.id : 0 }
    },
    wake() {
      flights.wake()
      const reason = session.creds && !flights.current && due()
      if (reason) flights.start(reason).catch(() => {}) // its waiters, if any, get the error
    },
    getCredentials: () => session.creds && { ...session.creds },
    isAllowed: (url) => allowed(resolveURL(url, baseURL)),
    setCredentials(credentials) {
      const read = readCredentials(credentials)
      if (typeof read === 'string') throw new TypeError('[tokenrelay] setCredentials got ' + read)
      const stored = session.accept(read, true)
      flights.interrupt()
      return session.save(stored)
    },
    clear() {
      const error = new TokenRelayError('LOGGED_OUT', 'logged out')
      flights.interrupt(error)
      return session.forget(error)
    },
    async refresh() {
      await session.ready
      session.ended = null
      await flights.start('manual')
      if (!session.creds) throw session.ended || new SessionExpiredError()
      return { ...session.creds }
    },
    on,
  })
}
