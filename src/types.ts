import type { TokenRelayError } from './errors.js'

/** What the server issued. `expiresIn` is trusted over any clock: it is measured on arrival. */
export interface Credentials {
  accessToken: string
  refreshToken?: string
  /** Lifetime of the access token in seconds, as the server said when it issued it. */
  expiresIn?: number
  /** Absolute expiry in ms since epoch (local clock). Computed from `expiresIn` when absent. */
  expiresAt?: number
}

/** The smallest `AbortSignal` the relay needs; the platform's own signals fit. */
export interface AbortSignalLike {
  readonly aborted: boolean
  readonly reason?: unknown
  addEventListener(type: 'abort', listener: () => void): void
  removeEventListener(type: 'abort', listener: () => void): void
}

export type RequestKind = 'request' | 'upload' | 'download'

/** A request as adapters hand it to the relay. Extra platform fields (filePath, name…) travel untouched. */
export interface RelayRequest {
  url: string
  method?: string
  header?: Record<string, string>
  data?: unknown
  kind?: RequestKind
  /** `false`: send as is, never attach a token, never refresh. */
  auth?: boolean
  signal?: AbortSignalLike
  [extra: string]: unknown
}

export interface RelayResponse {
  statusCode: number
  header?: Record<string, string | string[] | undefined>
  data?: unknown
  [extra: string]: unknown
}

/** Sends one request for real. Resolves for every HTTP answer; rejects only when no answer arrived. */
export type Transport = (request: RelayRequest) => Promise<RelayResponse>

/** Key-value storage; each method may be sync or async. Values are strings. */
export interface TokenStorage {
  get(key: string): string | null | undefined | Promise<string | null | undefined>
  set(key: string, value: string): void | Promise<void>
  remove(key: string): void | Promise<void>
}

/** What `refresh` and `login` receive. */
export interface RefreshContext {
  /** The refresh token, when one is stored. */
  refreshToken?: string
  /** The credentials being replaced (null when there are none). */
  credentials: Credentials | null
  /** Why: `'expired'` (a response said so), `'ahead'` (expiry is near), `'manual'`, `'login'` (no credentials yet). */
  reason: 'expired' | 'ahead' | 'manual' | 'login'
  /**
   * Sends through the transport with no token and no refresh handling, so it can never loop.
   * Resolves with the response on 2xx; rejects with `SESSION_EXPIRED` on 400/401/403, `invalid_grant`
   * or an expiry answer, and with a transient `REFRESH_FAILED` on network errors and other statuses.
   */
  request(request: RelayRequest): Promise<RelayResponse>
}

export interface RelayEvents {
  'refresh:start': { reason: RefreshContext['reason']; strategy: 'refresh' | 'login' }
  'refresh:success': { strategy: 'refresh' | 'login' }
  'refresh:failure': { error: TokenRelayError }
  queued: { request: RelayRequest }
  replay: { request: RelayRequest; attempt: number }
  'session-expired': { error: TokenRelayError }
  error: { error: unknown }
  /** Credentials were set, refreshed or cleared. */
  change: { credentials: Credentials | null }
}

export type RelayEventName = keyof RelayEvents

/** A request ready for the platform, and the credentials version and session it carries. */
export interface Stamped {
  request: RelayRequest
  version: number
  /** The session the request was sent in; 0 when it was sent logged out. */
  session: number
  /** A recognised login (`authRequests`): its answer goes to `receive()` whatever it says. */
  adopt?: boolean
}
