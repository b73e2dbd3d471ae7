// @ts-check
/**
 * The one state object every module works on: what `reset()` forgets (keys, users, codes, token
 * families, settings, stats) and what lives as long as the server (options, arrival counter, timers,
 * hanging responses). `reset()` reassigns the first part in place, so no module holds a stale copy.
 */
import crypto from 'node:crypto'

/** @typedef {import('./options.js').ResolvedOptions} ResolvedOptions */
/** @typedef {import('./options.js').ExpiryMode} ExpiryMode */
/** @typedef {import('./options.js').FaultMode} FaultMode */

/**
 * Current settings, as answered by `control()` / `POST /__control` / `GET /__control`.
 * @typedef {object} Settings
 * @property {number} latencyMs
 * @property {{ count: number, mode: FaultMode } | null} failRefresh
 * @property {ExpiryMode} expiryMode
 * @property {string} bodyCodeField
 * @property {number} clockOffsetMs
 * @property {number | null} expireAllBefore Server-clock ms; access tokens issued at or before it are expired.
 * @property {number} graceSeconds
 * @property {number} accessTtl
 * @property {number} refreshTtl
 * @property {number} codeTtl
 */

/**
 * One handled request (test-control `/__*` routes and CORS preflights are not recorded).
 * @typedef {object} Hit
 * @property {number} seq 1-based order of arrival.
 * @property {string} requestId Also sent as the `X-Request-Id` response header.
 * @property {string} method
 * @property {string} route Path without query, e.g. `/api/profile`.
 * @property {number} status HTTP status answered; 0 when the connection was dropped or left hanging.
 * @property {string | null} user User id the request's token belonged to (null if none/invalid).
 * @property {number | null} generation Generation of the token the request carried (access token on `/api/*`, refresh token on `/auth/refresh`), null if none/invalid.
 * @property {boolean} expired True when `/api/*` refused the access token (missing, expired or invalid).
 * @property {string | null} reason Why a request was refused or faulted, e.g. 'access token expired', 'refresh token reuse detected', 'fault:drop'.
 * @property {number} at Server-clock ms (includes clockOffsetMs) when the answer was decided (before `?delay`).
 */

/**
 * @typedef {object} Stats
 * @property {number} logins Successful logins.
 * @property {number} loginFailures Failed logins (invalid code or bad request).
 * @property {number} logouts Successful `POST /auth/logout` calls.
 * @property {number} refreshes Successful refreshes (rotations, grace replays, and 'succeed-then-drop' rotations).
 * @property {number} refreshAttempts Every `POST /auth/refresh`; always refreshes + refreshFailures.
 * @property {number} refreshFailures invalid_grant, bad_request and injected faults (except 'succeed-then-drop').
 * @property {number} reuseDetections Retired refresh tokens presented outside the grace window.
 * @property {number} familiesRevoked By reuse detection, `revokeUser` or a logout.
 * @property {number} graceReplays Retired refresh tokens answered with the cached pair inside the grace window.
 * @property {number} faultsInjected Refresh calls answered by a `failRefresh` fault.
 * @property {Record<string, Hit[]>} hits Per route (path without query), in order.
 * @property {Hit[]} requests Every recorded request, in the order the answers were decided (last 10000).
 */

/**
 * @typedef {object} Family
 * @property {string} id
 * @property {string} user
 * @property {number} latestGen
 * @property {boolean} revoked
 * @property {string | null} revokedReason
 */

/**
 * @typedef {object} SealedPair
 * @property {Buffer} iv
 * @property {Buffer} tag
 * @property {Buffer} data
 */

/**
 * @typedef {object} RefreshRecord
 * @property {string} familyId
 * @property {string} user
 * @property {number} gen
 * @property {number} expiresAt server-clock ms
 * @property {number | null} retiredAt server-clock ms
 * @property {Promise<SealedPair> | null} successor the pair that replaced it, sealed with a key only the token's holder can derive
 */

/**
 * What `reset()` forgets.
 * @typedef {object} ResettableState
 * @property {Uint8Array} accessKey HS256 key of the access tokens.
 * @property {Settings} settings
 * @property {Stats} stats
 * @property {Map<string, { id: string, openid: string }>} users
 * @property {Map<string, number>} mintedCodes minted code → expiry (server-clock ms)
 * @property {Set<string>} usedCodes
 * @property {Map<string, Family>} families
 * @property {Map<string, RefreshRecord>} refreshTokens sha256(refresh token) → record
 * @property {number} clockFloor last ms used as an issue time: issue times are strictly increasing
 */

/**
 * @typedef {ResettableState & {
 *   opts: ResolvedOptions,
 *   seq: number,
 *   closed: boolean,
 *   timers: Set<NodeJS.Timeout>,
 *   hanging: Set<import('node:http').ServerResponse>,
 * }} State
 */

const MAX_LOG_ENTRIES = 10000

/** @returns {Stats} */
function emptyStats() {
  return {
    logins: 0,
    loginFailures: 0,
    logouts: 0,
    refreshes: 0,
    refreshAttempts: 0,
    refreshFailures: 0,
    reuseDetections: 0,
    familiesRevoked: 0,
    graceReplays: 0,
    faultsInjected: 0,
    hits: {},
    requests: [],
  }
}

/**
 * @param {ResolvedOptions} opts
 * @returns {ResettableState}
 */
function fresh(opts) {
  return {
    accessKey: new Uint8Array(crypto.randomBytes(32)),
    settings: {
      latencyMs: opts.latencyMs,
      failRefresh: null,
      expiryMode: opts.expiryMode,
      bodyCodeField: opts.bodyCodeField,
      clockOffsetMs: 0,
      expireAllBefore: null,
      graceSeconds: opts.graceSeconds,
      accessTtl: opts.accessTtl,
      refreshTtl: opts.refreshTtl,
      codeTtl: opts.codeTtl,
    },
    stats: emptyStats(),
    users: new Map(),
    mintedCodes: new Map(),
    usedCodes: new Set(),
    families: new Map(),
    refreshTokens: new Map(),
    clockFloor: 0,
  }
}

/**
 * @param {ResolvedOptions} opts
 * @returns {State}
 */
export function createState(opts) {
  return { ...fresh(opts), opts, seq: 0, closed: false, timers: new Set(), hanging: new Set() }
}

/**
 * Forget users, codes, families, stats and controls; new signing key.
 * @param {State} state
 */
export function resetState(state) {
  Object.assign(state, fresh(state.opts))
}

/**
 * The server's clock (real time shifted by `clockOffsetMs`).
 * @param {State} state
 */
export function now(state) {
  return Date.now() + state.settings.clockOffsetMs
}

/**
 * A timer that `close()` can cancel: after close, the promise never settles and the socket is gone.
 * @param {State} state
 * @param {number} ms
 * @returns {Promise<void>}
 */
export function sleep(state, ms) {
  return new Promise((resolve) => {
    if (ms <= 0) return resolve()
    const timer = setTimeout(() => {
      state.timers.delete(timer)
      resolve()
    }, ms)
    state.timers.add(timer)
  })
}

/**
 * @param {State} state
 * @param {Hit} hit
 */
export function recordHit(state, hit) {
  const s = state.stats
  const list = s.hits[hit.route] || (s.hits[hit.route] = [])
  list.push(hit)
  if (list.length > MAX_LOG_ENTRIES) list.shift()
  s.requests.push(hit)
  if (s.requests.length > MAX_LOG_ENTRIES) s.requests.shift()
}
