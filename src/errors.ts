/**
 * Why a request or a refresh ended without a usable response.
 * - `SESSION_EXPIRED`: the refresh token (and silent login) were refused; the user must log in again.
 * - `REFRESH_FAILED`: the refresh hit a transient failure (network, 5xx, bad answer, the device offline past
 *   `offlineWaitMs`); credentials are kept.
 * - `REFRESH_TIMEOUT`: the refresh did not answer within `refreshTimeoutMs` (or another tab held the refresh
 *   longer than it can take); credentials are kept.
 * - `REPLAY_LIMIT`: the server still said "expired" after `maxReplays` replays with a fresh token.
 * - `ABORTED`: the caller aborted the request while it was waiting.
 * - `LOGGED_OUT`: `clear()` (or a logout in another tab) came while the request was waiting, or it belongs to a session
 *   that has ended since it started (an account switch): it is never replayed with another session's token.
 * - `CONFIG_ERROR`: one of the app's options threw or returned something unusable (`isExpired`, `attach`,
 *   `decodeToken`, `authRequests`' `credentials`, or a login answer it could not adopt); never retried.
 */
export type TokenRelayErrorCode =
  'SESSION_EXPIRED' | 'REFRESH_FAILED' | 'REFRESH_TIMEOUT' | 'REPLAY_LIMIT' | 'ABORTED' | 'LOGGED_OUT' | 'CONFIG_ERROR'

/** The one error type tokenrelay rejects with. Tell cases apart by `code`, never by message. */
export class TokenRelayError extends Error {
  /** Set on transient failures that a retry may fix (network, 5xx, timeout). */
  readonly transient: boolean
  /** What went wrong underneath: the platform error, or the response that said so. */
  declare readonly cause?: unknown
  /** How long the server asked to wait before a retry (`Retry-After` on 429/503), when it said. */
  readonly retryAfterMs?: number
  /** Marks tokenrelay's errors across realms and bundled copies (see `isTokenRelayError`). */
  readonly __tokenRelayError = true

  constructor(
    readonly code: TokenRelayErrorCode,
    message: string,
    options: { cause?: unknown; transient?: boolean; retryAfterMs?: number } = {},
  ) {
    super(message)
    this.name = 'TokenRelayError'
    this.transient = !!options.transient
    if (options.retryAfterMs) this.retryAfterMs = options.retryAfterMs
    if ('cause' in options) (this as { cause?: unknown }).cause = options.cause
    // Keep `instanceof` working when the app's build compiles classes to ES5 (WeChat devtools' "ES6 → ES5").
    Object.setPrototypeOf(this, new.target.prototype)
  }
}

/**
 * Throw this from `refresh` or `login` to say "the session is over" (e.g. the server answered
 * `invalid_grant`). The relay then clears credentials and rejects every waiting request.
 */
export class SessionExpiredError extends TokenRelayError {
  constructor(message = 'session expired', cause?: unknown) {
    super('SESSION_EXPIRED', message, { cause })
    this.name = 'SessionExpiredError'
  }
}

/** Works across realms and bundled copies, unlike `instanceof`. */
export function isTokenRelayError(value: unknown, code?: TokenRelayErrorCode): value is TokenRelayError {
  return !!value && (value as TokenRelayError).__tokenRelayError === true && (!code || (value as TokenRelayError).code === code)
}
