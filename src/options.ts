import type { ExpiredRule } from './detect.js'
import type { TokenRelayError } from './errors.js'
import type { AuthRequestsHook } from './auth.js'
import type { TabDeps } from './tabs.js'
import type { Credentials, RefreshContext, RelayRequest, RelayResponse, TokenStorage, Transport } from './types.js'

/** Time and timers. The default reads the globals at call time, so fake timers in tests apply. */
export interface Clock {
  now(): number
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(id: unknown): void
}

/** The device's network as the platform reports it (adapters fill it in from `getNetworkType`, `navigator.onLine`…). */
export interface NetworkStatus {
  /** `false`: no network now. `true` or `undefined` (cannot tell): go ahead. */
  online(): boolean | undefined
  /** Calls `listener` on every change; returns the function that stops it. */
  onChange(listener: (online: boolean) => void): () => void
}

export interface Logger {
  log(...args: unknown[]): void
  warn(...args: unknown[]): void
}

/** What another tab says: its stored credentials changed (read them), or its session ended. Never a token. */
export type TabMessage = { type: 'stored' } | { type: 'ended'; code: 'LOGGED_OUT' | 'SESSION_EXPIRED' }

/**
 * Tabs of one origin sharing one session (H5): the adapters make it from Web Locks, BroadcastChannel and the
 * `storage` event. Relays that share `storage` and a `crossTab` refresh once between them.
 */
export interface CrossTab {
  /**
   * Runs `fn` while no other tab runs one under `name`. Rejects without calling `fn` when the lock is not
   * granted within `waitMs`.
   */
  lock<T>(name: string, waitMs: number, fn: () => Promise<T>): Promise<T>
  /** Tells the other tabs (not this one). */
  post(message: TabMessage): void
  /** Calls `fn` for each message from another tab; returns the unsubscribe function. */
  listen(fn: (message: TabMessage) => void): () => void
}

/** What the `crossTab` option takes: `shareTabs(crossTab)`. */
export interface SharedTabs {
  post(message: TabMessage): void
  /** @internal Connects a relay: listens to the other tabs, returns how its flights take the lock. */
  join(deps: TabDeps): (carried: string | undefined, work: () => Promise<boolean>) => Promise<boolean>
}

export interface TokenRelayOptions {
  /**
   * Refresh-token strategy: trade `ctx.refreshToken` for new credentials. Use `ctx.request` to call the
   * server: it never loops into a refresh and classifies failures for you.
   * @example refresh: async ({ refreshToken, request }) => (await request({ url: '/auth/refresh', method: 'POST', data: { refreshToken } })).data as Credentials
   */
  refresh?: (ctx: RefreshContext) => Promise<Credentials>
  /**
   * Silent re-login (e.g. a `wx.login` code exchanged by your server). Tried when there is no refresh
   * token or the refresh ended the session, under the same single flight.
   * @example login: async ({ request }) => (await request({ url: '/auth/login', method: 'POST', data: { code: await getCode() } })).data as Credentials
   */
  login?: (ctx: RefreshContext) => Promise<Credentials>
  /**
   * What an expired access token looks like. Ignored when `isExpired` is given.
   * @default { status: [401], codes: [], codeField: 'code' }
   * @example expired: { status: [401], codes: [99997, '0002'], codeField: 'code' }
   */
  expired?: ExpiredRule
  /**
   * Custom expiry test; overrides `expired`.
   * @example isExpired: (res) => res.statusCode === 200 && (res.data as any)?.errno === 4001
   */
  isExpired?: (response: RelayResponse, request: RelayRequest) => boolean
  /**
   * Puts the access token on a request (mutate `request.header`; it is a fresh copy). Must be synchronous:
   * one that returns a value (a promise) is refused with `CONFIG_ERROR` at its first use.
   * @default header `Authorization: Bearer <accessToken>`
   * @example attach: (req, c) => { req.header!['X-Token'] = c.accessToken }
   */
  attach?: (request: RelayRequest, credentials: Credentials) => void
  /**
   * Base for relative URLs; its origin is allowed to receive the token.
   * @example baseURL: 'https://api.example.com/v1'
   */
  baseURL?: string
  /**
   * More origins allowed to receive the token (exact `scheme://host[:port]`, or a RegExp tested against it).
   * With neither `baseURL` nor `origins`, the token goes everywhere and a warning is printed once.
   * @example origins: ['https://upload.example.com', /^https:\/\/[a-z]+\.example\.com$/]
   */
  origins?: (string | RegExp)[]
  /**
   * Where credentials persist. Each method may be sync or async.
   * @default in memory (lost on restart)
   */
  storage?: TokenStorage
  /** @default 'tokenrelay' */
  storageKey?: string
  /**
   * How long a storage read or write may take before the relay goes on without it (logged out, or with the
   * credentials in memory) and warns. A write that hangs past it stops holding back the next one; if it lands after
   * a newer one, the newest value is written again.
   * @default 2000
   */
  storageTimeoutMs?: number
  /**
   * With a known expiry, requests sent within this many ms of it first wait for one refresh.
   * @default 60000
   */
  refreshAheadMs?: number
  /** Per attempt of `refresh`/`login`. @default 10000 */
  refreshTimeoutMs?: number
  /**
   * The device's network status. While it says offline, a refresh that is needed waits for the network (at most
   * `offlineWaitMs`) instead of spending its retries on a dead line. The adapters set it from the platform.
   * @default none: the network is taken to be there
   * @example network: { online: () => navigator.onLine, onChange: (fn) => { const on = () => fn(true); addEventListener('online', on); return () => removeEventListener('online', on) } }
   */
  network?: NetworkStatus
  /**
   * How long a needed refresh waits for the network to come back (`network` says offline). Then its waiting
   * requests reject with `REFRESH_FAILED` saying the device was offline; the credentials are kept.
   * @default 30000
   * @example offlineWaitMs: 60_000
   */
  offlineWaitMs?: number
  /** Replays per request after an expiry answer; then `REPLAY_LIMIT`. @default 1 */
  maxReplays?: number
  /**
   * Retries of a refresh after transient failures, with exponential backoff capped at `maxBackoffMs`; a
   * `Retry-After` on 429/503 is honoured up to the cap. @default { attempts: 2, backoffMs: 300, maxBackoffMs: 5000 }
   */
  retry?: { attempts?: number; backoffMs?: number; maxBackoffMs?: number }
  /** More than `maxRefreshes` refreshes within `windowMs` ends the session. @default { maxRefreshes: 5, windowMs: 60000 } */
  circuit?: { maxRefreshes?: number; windowMs?: number }
  /**
   * Reads `exp`/`iat` from an access token when the server gave no `expiresIn` (see `decodeJwt`), and `sub`:
   * credentials of another `sub` start a new session (requests of the old one are never replayed with them).
   * @default none: opaque tokens
   * @example decodeToken: decodeJwt
   */
  decodeToken?: (accessToken: string) => { exp?: number; iat?: number; sub?: string } | undefined
  /**
   * The app's login and logout requests, made by `authRequests()` (imported from `tokenrelay/auth`: apps that do not
   * use it do not ship it). Recognised when they go to a URL allowed to receive the token: a login's answer becomes the
   * credentials, a logout ends the session through `clear()`.
   * @default none: login and logout calls are requests like any other
   * @example authRequests: authRequests({ login: '/auth/login', logout: '/auth/logout', credentials: (res) => (res.data as any).data })
   */
  authRequests?: AuthRequestsHook
  /** Transport for `ctx.request` in refresh/login. Adapters set it. */
  transport?: Transport
  /** Called once per session end (e.g. go to the login page). */
  onSessionExpired?: (error: TokenRelayError) => void
  /**
   * Share one session with the other tabs of this origin (H5): one refresh between them, the new
   * credentials adopted by all, a logout or session end in one ending it in all. The H5 adapters set it.
   * @default none (one relay per app, as in a mini program)
   * @example crossTab: shareTabs({ lock, post, listen })
   */
  crossTab?: SharedTabs
  /** @default the global timers and `Date.now` */
  clock?: Clock
  /** @default console */
  logger?: Logger
}
