// @ts-check
/**
 * tokenrelay reference auth server: a real back end on 127.0.0.1 for demos,
 * tests and playgrounds. Login with mini program codes, refresh-token rotation
 * with reuse detection (RFC 9700), `400 invalid_grant` (RFC 6749 §5.2),
 * `401` + `WWW-Authenticate` (RFC 6750) or body-code expiry answers, and fault
 * knobs for the refresh endpoint. Plain Node: `node:http`, `node:crypto`, `jose`.
 * See README.md in this folder.
 */
import http from 'node:http'
import crypto from 'node:crypto'
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose'
import { multipartBoundary, parseMultipart } from './multipart.js'

/** @typedef {'401' | '99997' | '1002' | '0002'} ExpiryMode */
/** @typedef {'500' | '503' | 'hang' | 'drop' | 'succeed-then-drop'} FaultMode */

/**
 * Options of {@link startServer}. All optional.
 * @typedef {object} ServerOptions
 * @property {number} [port] TCP port; 0 (default) picks a free one.
 * @property {string} [host] Interface to bind; default '127.0.0.1'.
 * @property {number} [accessTtl] Access token lifetime in seconds; default 14400 (4 h).
 * @property {number} [refreshTtl] Refresh token lifetime in seconds; default 604800 (7 d).
 * @property {number} [codeTtl] Lifetime of codes minted by `POST /__code`, seconds; default 300.
 * @property {number} [graceSeconds] Reuse grace window for retired refresh tokens; default 0.
 * @property {ExpiryMode} [expiryMode] How `/api/*` answers a missing/expired/invalid token; default '401'.
 * @property {string} [bodyCodeField] Body field carrying the code in body modes; default 'code'.
 * @property {number} [maxBodyBytes] Request body cap (413 above it); default 1 MiB.
 * @property {number} [latencyMs] Extra latency before every non-`/__` request is handled; default 0.
 * @property {boolean | ((line: string) => void)} [log] Log one line per request (true → console.log).
 */

/**
 * Test-control patch (`POST /__control` body, or `control(patch)` in-process).
 * Every key is optional; unknown keys are rejected.
 * @typedef {object} ControlPatch
 * @property {number} [latencyMs]
 * @property {{ count?: number, mode: FaultMode } | null} [failRefresh] Fail the next `count` (default 1) refresh calls; null disarms.
 * @property {ExpiryMode} [expiryMode]
 * @property {string} [bodyCodeField]
 * @property {number} [clockOffsetMs] Shift the server's clock (token iat/exp, code and refresh expiry).
 * @property {boolean} [expireAllNow] true: every access token issued up to now is expired.
 * @property {string} [revokeUser] Revoke every refresh-token family of this user id.
 * @property {number} [graceSeconds]
 * @property {number} [accessTtl]
 * @property {number} [refreshTtl]
 * @property {number} [codeTtl]
 */

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
 * @property {number} refreshes Successful refreshes (rotations, grace replays, and 'succeed-then-drop' rotations).
 * @property {number} refreshAttempts Every `POST /auth/refresh`; always refreshes + refreshFailures.
 * @property {number} refreshFailures invalid_grant, bad_request and injected faults (except 'succeed-then-drop').
 * @property {number} reuseDetections Retired refresh tokens presented outside the grace window.
 * @property {number} familiesRevoked By reuse detection or `revokeUser`.
 * @property {number} graceReplays Retired refresh tokens answered with the cached pair inside the grace window.
 * @property {number} faultsInjected Refresh calls answered by a `failRefresh` fault.
 * @property {Record<string, Hit[]>} hits Per route (path without query), in order.
 * @property {Hit[]} requests Every recorded request, in the order the answers were decided (last 10000).
 */

/**
 * Body of a successful login or refresh.
 * @typedef {object} TokenPair
 * @property {string} accessToken HS256 JWT: sub, fam, gen, iat, exp, iat_ms.
 * @property {string} refreshToken Opaque; stored server-side only as a SHA-256 hash.
 * @property {number} expiresIn Seconds.
 * @property {number} refreshExpiresIn Seconds.
 * @property {{ id: string, openid: string }} user
 */

/**
 * @typedef {object} RunningServer
 * @property {string} url Base URL without trailing slash, e.g. `http://127.0.0.1:53211`.
 * @property {number} port
 * @property {() => Promise<void>} close Stops listening and destroys every open, idle or hanging socket.
 * @property {() => Stats} stats A snapshot (deep copy).
 * @property {(patch: ControlPatch) => Settings} control Apply a patch (throws TypeError on invalid input); returns the settings.
 * @property {() => void} reset Forget users, codes, families, stats and controls; new signing key.
 */

/** @type {readonly ExpiryMode[]} */
export const EXPIRY_MODES = ['401', '99997', '1002', '0002']
/** @type {readonly FaultMode[]} */
export const FAULT_MODES = ['500', '503', 'hang', 'drop', 'succeed-then-drop']

const DEFAULTS = {
  port: 0,
  host: '127.0.0.1',
  accessTtl: 14400,
  refreshTtl: 604800,
  codeTtl: 300,
  graceSeconds: 0,
  expiryMode: /** @type {ExpiryMode} */ ('401'),
  bodyCodeField: 'code',
  maxBodyBytes: 1024 * 1024,
  latencyMs: 0,
}

const MAX_DELAY_MS = 10000
const MAX_DOWNLOAD_BYTES = 10 * 1024 * 1024
const MAX_LOG_ENTRIES = 10000
// After answering before the request was read (413, 431), keep reading and discarding what the client
// is still sending: closing with unread data makes the kernel send a reset, and most clients then report
// EPIPE / ECONNRESET instead of the answer. Bounded, so a client cannot hold the connection forever.
const DRAIN_MAX_BYTES = 16 * 1024 * 1024
const DRAIN_MAX_MS = 5000
const CODE_RE = /^code-([A-Za-z0-9_]{1,64})-([A-Za-z0-9._~-]{1,128})$/
const USER_RE = /^[A-Za-z0-9_]{1,64}$/
const CORS_ALLOW_HEADERS = ['Authorization', 'Content-Type', 'X-Requested-With']
// Content-Disposition and X-Content-SHA256: H5 downloads (uni-h5 reads the file name from the former).
const CORS_EXPOSE_HEADERS = 'WWW-Authenticate, X-Request-Id, Content-Disposition, X-Content-SHA256'
const CORS_METHODS = 'GET, POST, PUT, DELETE, OPTIONS'
const REALM = 'tokenrelay'

/**
 * Deterministic content of `GET /api/download/:name` (SHA-256 counter blocks
 * over the name). Exported so tests can compare bytes.
 * @param {string} name
 * @param {number} [size] bytes, default 1024
 * @returns {Buffer}
 */
export function downloadContent(name, size = 1024) {
  const out = Buffer.alloc(size)
  for (let offset = 0, i = 0; offset < size; offset += 32, i++) {
    crypto.createHash('sha256').update(`tokenrelay:${name}:${i}`).digest().copy(out, offset)
  }
  return out
}

/** @param {string | Buffer} value */
function sha256hex(value) {
  return crypto.createHash('sha256').update(value).digest('hex')
}

class HttpError extends Error {
  /**
   * @param {number} status
   * @param {Record<string, unknown>} body
   */
  constructor(status, body) {
    super(String(body.message || body.error || status))
    this.status = status
    this.body = body
  }
}

/** @param {string} message */
function badRequest(message) {
  return new HttpError(400, { error: 'bad_request', message })
}

/**
 * @param {unknown} value
 * @param {string} name
 * @param {{ min?: number, max?: number, integer?: boolean }} [limits]
 * @returns {number}
 */
function checkNumber(value, name, limits = {}) {
  const { min = 0, max = Number.MAX_SAFE_INTEGER, integer = false } = limits
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new TypeError(`${name} must be ${integer ? 'an integer' : 'a number'} between ${min} and ${max}`)
  }
  return value
}

/**
 * @param {unknown} value
 * @returns {ExpiryMode}
 */
function checkExpiryMode(value) {
  if (typeof value !== 'string' || !EXPIRY_MODES.includes(/** @type {ExpiryMode} */ (value))) {
    throw new TypeError(`expiryMode must be one of ${EXPIRY_MODES.map((m) => `'${m}'`).join(', ')}`)
  }
  return /** @type {ExpiryMode} */ (value)
}

/**
 * @param {unknown} value
 * @returns {string}
 */
function checkField(value) {
  if (typeof value !== 'string' || value.length === 0 || value.length > 64) {
    throw new TypeError('bodyCodeField must be a non-empty string (≤ 64 chars)')
  }
  return value
}

/**
 * @param {ServerOptions} options
 */
function normalizeOptions(options) {
  if (options === null || typeof options !== 'object') throw new TypeError('startServer(options): options must be an object')
  const o = { ...DEFAULTS }
  if (options.port !== undefined) o.port = checkNumber(options.port, 'port', { max: 65535, integer: true })
  if (options.host !== undefined) {
    if (typeof options.host !== 'string' || !options.host) throw new TypeError('host must be a non-empty string')
    o.host = options.host
  }
  if (options.accessTtl !== undefined) o.accessTtl = checkNumber(options.accessTtl, 'accessTtl', { min: 1, integer: true })
  if (options.refreshTtl !== undefined) o.refreshTtl = checkNumber(options.refreshTtl, 'refreshTtl', { min: 1, integer: true })
  if (options.codeTtl !== undefined) o.codeTtl = checkNumber(options.codeTtl, 'codeTtl', { min: 0 })
  if (options.graceSeconds !== undefined) o.graceSeconds = checkNumber(options.graceSeconds, 'graceSeconds')
  if (options.expiryMode !== undefined) o.expiryMode = checkExpiryMode(options.expiryMode)
  if (options.bodyCodeField !== undefined) o.bodyCodeField = checkField(options.bodyCodeField)
  if (options.maxBodyBytes !== undefined) o.maxBodyBytes = checkNumber(options.maxBodyBytes, 'maxBodyBytes', { min: 1, integer: true })
  if (options.latencyMs !== undefined) o.latencyMs = checkNumber(options.latencyMs, 'latencyMs', { max: 60000 })
  /** @type {(line: string) => void} */
  let log = () => {}
  if (options.log === true) log = (line) => console.log(line)
  else if (typeof options.log === 'function') log = options.log
  return { ...o, log }
}

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
 * @typedef {object} SealedPair
 * @property {Buffer} iv
 * @property {Buffer} tag
 * @property {Buffer} data
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
 * The reply a route decided on; the outer loop records, delays and sends it.
 * @typedef {object} Reply
 * @property {number} status
 * @property {unknown} [json] JSON body
 * @property {Buffer} [bytes] raw body
 * @property {boolean} [textPlain] send the JSON body as `text/plain` (uploads)
 * @property {string} [contentType] content type of `bytes`
 * @property {Record<string, string>} [headers]
 * @property {number} [delayMs] `?delay` applied after the decision
 * @property {'drop' | 'hang'} [action]
 * @property {string | null} [user]
 * @property {number | null} [generation]
 * @property {boolean} [expired]
 * @property {string | null} [reason]
 */

/**
 * Sealing key for a retired refresh token's successor pair: a hash of the
 * token that is NOT the lookup hash, so the stored data alone cannot open it.
 * @param {string} token
 */
function sealKey(token) {
  return crypto.createHash('sha256').update('tokenrelay-grace\0').update(token).digest()
}

/**
 * @param {TokenPair} pair
 * @param {string} token
 * @returns {SealedPair}
 */
function seal(pair, token) {
  const iv = crypto.randomBytes(12)
  const cipher = crypto.createCipheriv('aes-256-gcm', sealKey(token), iv)
  const data = Buffer.concat([cipher.update(JSON.stringify(pair), 'utf8'), cipher.final()])
  return { iv, tag: cipher.getAuthTag(), data }
}

/**
 * @param {SealedPair} sealed
 * @param {string} token
 * @returns {TokenPair}
 */
function unseal(sealed, token) {
  const decipher = crypto.createDecipheriv('aes-256-gcm', sealKey(token), sealed.iv)
  decipher.setAuthTag(sealed.tag)
  return JSON.parse(Buffer.concat([decipher.update(sealed.data), decipher.final()]).toString('utf8'))
}

/** @returns {Stats} */
function emptyStats() {
  return {
    logins: 0,
    loginFailures: 0,
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
 * Start the reference server.
 * @param {ServerOptions} [options]
 * @returns {Promise<RunningServer>}
 */
export async function startServer(options = {}) {
  const opts = normalizeOptions(options)
  const log = opts.log

  /** @returns {Settings} */
  const initialSettings = () => ({
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
  })

  const freshState = () => ({
    accessKey: new Uint8Array(crypto.randomBytes(32)),
    settings: initialSettings(),
    stats: emptyStats(),
    /** @type {Map<string, { id: string, openid: string }>} */
    users: new Map(),
    /** @type {Map<string, number>} minted code → expiry (server-clock ms) */
    mintedCodes: new Map(),
    /** @type {Set<string>} */
    usedCodes: new Set(),
    /** @type {Map<string, Family>} */
    families: new Map(),
    /** @type {Map<string, RefreshRecord>} sha256(refresh token) → record */
    refreshTokens: new Map(),
    /** last ms used as an issue time: issue times are strictly increasing */
    clockFloor: 0,
  })

  let state = freshState()
  let seq = 0
  let closed = false
  /** @type {Set<import('node:net').Socket>} */
  const sockets = new Set()
  /** @type {Set<NodeJS.Timeout>} */
  const timers = new Set()
  /** @type {Set<http.ServerResponse>} */
  const hanging = new Set()

  const now = () => Date.now() + state.settings.clockOffsetMs

  /** @param {number} ms */
  const sleep = (ms) =>
    new Promise((resolve) => {
      if (ms <= 0) return resolve(undefined)
      const timer = setTimeout(() => {
        timers.delete(timer)
        resolve(undefined)
      }, ms)
      timers.add(timer)
    })

  /** A strictly increasing server-clock ms, so "expire all now" has an exact cut. */
  const nextIssueMs = () => {
    const t = Math.max(now(), state.clockFloor + 1)
    state.clockFloor = t
    return t
  }

  /** @param {string} id */
  const userFor = (id) => {
    let user = state.users.get(id)
    if (!user) {
      user = { id, openid: `openid-${id}` }
      state.users.set(id, user)
    }
    return user
  }

  /**
   * Issue an access + refresh token pair of generation `gen` in `family`.
   * @param {Family} family
   * @param {number} gen
   * @returns {Promise<TokenPair>}
   */
  const issuePair = async (family, gen) => {
    const s = state
    const { accessTtl, refreshTtl } = s.settings
    const user = userFor(family.user)
    const t = nextIssueMs()
    const iat = Math.floor(t / 1000)
    const refreshToken = 'rt_' + crypto.randomBytes(32).toString('base64url')
    s.refreshTokens.set(sha256hex(refreshToken), {
      familyId: family.id,
      user: family.user,
      gen,
      expiresAt: t + refreshTtl * 1000,
      retiredAt: null,
      successor: null,
    })
    family.latestGen = gen
    const accessToken = await new SignJWT({ fam: family.id, gen, iat_ms: t })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(user.id)
      .setIssuedAt(iat)
      .setExpirationTime(iat + accessTtl)
      .sign(s.accessKey)
    return { accessToken, refreshToken, expiresIn: accessTtl, refreshExpiresIn: refreshTtl, user: { ...user } }
  }

  /**
   * @param {Family} family
   * @param {string} reason
   */
  const revokeFamily = (family, reason) => {
    if (family.revoked) return
    family.revoked = true
    family.revokedReason = reason
    state.stats.familiesRevoked++
  }

  /**
   * Check the bearer token of a request.
   * @param {http.IncomingMessage} req
   * @returns {Promise<{ ok: true, user: string, gen: number, fam: string } | { ok: false, kind: 'missing' | 'expired' | 'invalid', description: string, user: string | null, gen: number | null }>}
   */
  const authenticate = async (req) => {
    const header = req.headers.authorization
    const match = header ? /^Bearer[ ]+([A-Za-z0-9._~+/-]+=*)\s*$/i.exec(header) : null
    if (!match) {
      return { ok: false, kind: 'missing', description: header ? 'authorization header is not a Bearer token' : 'missing bearer token', user: null, gen: null }
    }
    const s = state
    try {
      const { payload } = await jwtVerify(match[1], s.accessKey, {
        algorithms: ['HS256'],
        currentDate: new Date(now()),
        requiredClaims: ['sub', 'exp', 'iat'],
      })
      const { sub, fam, gen, iat_ms: issuedMs } = payload
      if (typeof sub !== 'string' || typeof fam !== 'string' || typeof gen !== 'number' || typeof issuedMs !== 'number') {
        return { ok: false, kind: 'invalid', description: 'access token is missing claims', user: null, gen: null }
      }
      const cut = s.settings.expireAllBefore
      if (cut !== null && issuedMs <= cut) {
        return { ok: false, kind: 'expired', description: 'access token expired (expireAllNow)', user: sub, gen }
      }
      return { ok: true, user: sub, gen, fam }
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) {
        const { sub, gen } = error.payload
        return {
          ok: false,
          kind: 'expired',
          description: 'access token expired',
          user: typeof sub === 'string' ? sub : null,
          gen: typeof gen === 'number' ? gen : null,
        }
      }
      return { ok: false, kind: 'invalid', description: 'access token is invalid', user: null, gen: null }
    }
  }

  /**
   * The answer to a missing/expired/invalid access token, per expiry mode.
   * @param {{ kind: 'missing' | 'expired' | 'invalid', description: string, user: string | null, gen: number | null }} failure
   * @param {boolean} textPlain
   * @returns {Reply}
   */
  const expiryReply = (failure, textPlain) => {
    const { expiryMode, bodyCodeField: field } = state.settings
    const base = { expired: true, reason: failure.description, user: failure.user, generation: failure.gen, textPlain }
    if (expiryMode === '401') {
      const challenge =
        failure.kind === 'missing'
          ? `Bearer realm="${REALM}"`
          : `Bearer realm="${REALM}", error="invalid_token", error_description="${failure.description}"`
      return {
        ...base,
        status: 401,
        headers: { 'www-authenticate': challenge },
        json: { error: 'invalid_token', error_description: failure.description },
      }
    }
    if (expiryMode === '99997') return { ...base, status: 200, json: { [field]: 99997, message: 'TOKEN EXPIRED' } }
    if (expiryMode === '1002') return { ...base, status: 200, json: { [field]: 1002, msg: 'token expired' } }
    return { ...base, status: 200, json: { [field]: '0002', success: false, msg: 'token expired' } }
  }

  /**
   * Success bodies of `/api/*` carry `[bodyCodeField]: 0` in body modes.
   * @param {Record<string, unknown>} body
   */
  const withOkCode = (body) => (state.settings.expiryMode === '401' ? body : { [state.settings.bodyCodeField]: 0, ...body })

  /**
   * Parse a JSON or form-urlencoded body into an object. Empty body → {}.
   * @param {http.IncomingMessage} req
   * @param {Buffer} body
   * @returns {Record<string, unknown>}
   */
  const parseObjectBody = (req, body) => {
    const type = (req.headers['content-type'] || '').split(';')[0].trim().toLowerCase()
    if (!type && body.length === 0) return {}
    if (type === 'application/json' || type.endsWith('+json')) {
      let value
      try {
        value = JSON.parse(body.toString('utf8'))
      } catch {
        throw badRequest('malformed JSON body')
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw badRequest('JSON body must be an object')
      return value
    }
    if (type === 'application/x-www-form-urlencoded') {
      return Object.fromEntries(new URLSearchParams(body.toString('utf8')))
    }
    throw badRequest(
      `unsupported content type ${type ? JSON.stringify(type) : '(none)'}; send application/json or application/x-www-form-urlencoded`,
    )
  }

  /**
   * @param {Record<string, unknown>} data
   * @param {string[]} names accepted spellings, first wins
   * @returns {string}
   */
  const requireString = (data, names) => {
    for (const name of names) {
      const value = data[name]
      if (value === undefined) continue
      if (typeof value !== 'string' || !value) throw badRequest(`${name} must be a non-empty string`)
      return value
    }
    throw badRequest(`missing field: ${names.join(' or ')}`)
  }

  // ---- routes -------------------------------------------------------------

  /**
   * @param {http.IncomingMessage} req
   * @param {Buffer} body
   * @returns {Promise<Reply>}
   */
  const login = async (req, body) => {
    const s = state
    let code
    try {
      code = requireString(parseObjectBody(req, body), ['code', 'authCode'])
    } catch (error) {
      s.stats.loginFailures++
      throw error
    }
    /** @param {string} reason @returns {Reply} */
    const invalid = (reason) => {
      s.stats.loginFailures++
      return { status: 400, json: { errcode: 40029, errmsg: 'invalid code' }, reason }
    }
    const match = CODE_RE.exec(code)
    if (!match) return invalid('malformed code')
    if (s.usedCodes.has(code)) return invalid('code already used')
    s.usedCodes.add(code)
    const mintedExpiry = s.mintedCodes.get(code)
    s.mintedCodes.delete(code)
    if (mintedExpiry !== undefined && mintedExpiry <= now()) return invalid('code expired')
    const user = userFor(match[1])
    /** @type {Family} */
    const family = { id: 'fam_' + crypto.randomBytes(9).toString('base64url'), user: user.id, latestGen: 0, revoked: false, revokedReason: null }
    s.families.set(family.id, family)
    const pair = await issuePair(family, 1)
    s.stats.logins++
    return { status: 200, json: pair, user: user.id, generation: 1 }
  }

  /**
   * @param {http.IncomingMessage} req
   * @param {Buffer} body
   * @returns {Promise<Reply>}
   */
  const refresh = async (req, body) => {
    const s = state
    s.stats.refreshAttempts++
    const failRefresh = s.settings.failRefresh
    /** @type {FaultMode | null} */
    let fault = null
    if (failRefresh && failRefresh.count > 0) {
      fault = failRefresh.mode
      failRefresh.count--
      if (failRefresh.count === 0) s.settings.failRefresh = null
      s.stats.faultsInjected++
    }
    if (fault && fault !== 'succeed-then-drop') {
      s.stats.refreshFailures++
      const reason = `fault:${fault}`
      if (fault === 'hang') return { status: 0, action: 'hang', reason }
      if (fault === 'drop') return { status: 0, action: 'drop', reason }
      return {
        status: fault === '503' ? 503 : 500,
        headers: { 'retry-after': '1' },
        json: { error: 'temporarily_unavailable', error_description: `injected fault (${fault})` },
        reason,
      }
    }
    /** @type {Reply} */
    let reply
    try {
      reply = await rotate(req, body)
    } catch (error) {
      s.stats.refreshFailures++
      if (fault) return { status: 0, action: 'drop', reason: 'fault:succeed-then-drop' }
      throw error
    }
    if (reply.status === 200) s.stats.refreshes++
    else s.stats.refreshFailures++
    if (fault) return { ...reply, status: 0, action: 'drop', reason: `fault:succeed-then-drop (${reply.reason || 'rotated'})` }
    return reply
  }

  /**
   * @param {http.IncomingMessage} req
   * @param {Buffer} body
   * @returns {Promise<Reply>}
   */
  const rotate = async (req, body) => {
    const s = state
    const token = requireString(parseObjectBody(req, body), ['refreshToken', 'refresh_token'])
    /** @param {string} description @param {RefreshRecord} [record] @returns {Reply} */
    const invalidGrant = (description, record) => ({
      status: 400,
      json: { error: 'invalid_grant', error_description: description },
      reason: description,
      user: record ? record.user : null,
      generation: record ? record.gen : null,
    })
    const record = s.refreshTokens.get(sha256hex(token))
    if (!record) return invalidGrant('unknown refresh token')
    const family = s.families.get(record.familyId)
    if (!family || family.revoked) return invalidGrant('refresh token revoked', record)
    const t = now()
    if (record.retiredAt !== null) {
      if (record.successor && t < record.retiredAt + s.settings.graceSeconds * 1000) {
        const pair = unseal(await record.successor, token)
        s.stats.graceReplays++
        return { status: 200, json: pair, user: record.user, generation: record.gen, reason: 'grace replay' }
      }
      s.stats.reuseDetections++
      revokeFamily(family, 'reuse')
      return invalidGrant('refresh token reuse detected; token family revoked', record)
    }
    if (record.expiresAt <= t) return invalidGrant('refresh token expired', record)
    // Retire synchronously, before any await: a concurrent use of the same
    // token sees it retired (grace replay or reuse detection), never rotates twice.
    record.retiredAt = t
    const pending = issuePair(family, record.gen + 1)
    record.successor = pending.then((pair) => seal(pair, token))
    record.successor.catch(() => {})
    const pair = await pending
    return { status: 200, json: pair, user: record.user, generation: record.gen }
  }

  /**
   * @param {http.IncomingMessage} req
   * @param {URL} url
   * @param {Buffer} body
   * @param {string} requestId
   * @returns {Promise<Reply>}
   */
  const api = async (req, url, body, requestId) => {
    const method = req.method || 'GET'
    const path = url.pathname
    /** @type {'upload' | 'download' | 'forbidden' | 'generic'} */
    let kind = 'generic'
    let downloadName = ''
    /** @type {string[]} */
    let allowed = ['GET', 'POST', 'PUT', 'DELETE']
    if (path === '/api/upload') {
      kind = 'upload'
      allowed = ['POST']
    } else if (path.startsWith('/api/download/')) {
      kind = 'download'
      allowed = ['GET']
      try {
        downloadName = decodeURIComponent(path.slice('/api/download/'.length))
      } catch {
        throw badRequest('malformed download name')
      }
      if (!downloadName || downloadName.includes('/')) {
        throw new HttpError(404, { error: 'not_found', message: `no such route: ${path}` })
      }
    } else if (path === '/api/forbidden') {
      kind = 'forbidden'
    }
    const textPlain = kind === 'upload'
    if (!allowed.includes(method)) {
      return {
        status: 405,
        headers: { allow: allowed.join(', ') },
        json: { error: 'method_not_allowed', message: `${method} ${path} is not allowed; use ${allowed.join(', ')}` },
        textPlain,
      }
    }
    let delayMs = 0
    const delayParam = url.searchParams.get('delay')
    if (delayParam !== null) {
      delayMs = Number(delayParam)
      if (!delayParam.trim() || !Number.isFinite(delayMs) || delayMs < 0) throw badRequest('delay must be a number of milliseconds ≥ 0')
      delayMs = Math.min(delayMs, MAX_DELAY_MS)
    }
    const auth = await authenticate(req)
    if (!auth.ok) return { ...expiryReply(auth, textPlain), delayMs }
    const who = { user: auth.user, generation: auth.gen, delayMs }

    if (kind === 'forbidden') {
      return {
        ...who,
        status: 403,
        headers: { 'www-authenticate': `Bearer realm="${REALM}", error="insufficient_scope", error_description="this resource needs a scope the token does not have"` },
        json: { error: 'insufficient_scope', error_description: 'this resource needs a scope the token does not have' },
        reason: 'insufficient_scope',
      }
    }

    if (kind === 'download') {
      let size = 1024
      const sizeParam = url.searchParams.get('size')
      if (sizeParam !== null) {
        size = Number(sizeParam)
        if (!sizeParam.trim() || !Number.isInteger(size) || size < 0 || size > MAX_DOWNLOAD_BYTES) {
          throw badRequest(`size must be an integer between 0 and ${MAX_DOWNLOAD_BYTES}`)
        }
      }
      const bytes = downloadContent(downloadName, size)
      return {
        ...who,
        status: 200,
        bytes,
        contentType: 'application/octet-stream',
        headers: {
          'content-disposition': `attachment; filename="${downloadName.replace(/["\\\r\n]/g, '_')}"`,
          'x-content-sha256': sha256hex(bytes),
        },
      }
    }

    if (kind === 'upload') {
      const boundary = multipartBoundary(req.headers['content-type'])
      if (!boundary) {
        return { ...who, status: 400, json: { error: 'bad_request', message: 'upload needs a multipart/form-data body with a boundary' }, textPlain }
      }
      let parts
      try {
        parts = parseMultipart(body, boundary)
      } catch (error) {
        return { ...who, status: 400, json: { error: 'bad_request', message: `malformed multipart body: ${/** @type {Error} */ (error).message}` }, textPlain }
      }
      const files = parts.filter((p) => p.filename !== null)
      if (files.length !== 1) {
        return { ...who, status: 400, json: { error: 'bad_request', message: `upload needs exactly one file part, got ${files.length}` }, textPlain }
      }
      /** @type {Record<string, string>} */
      const fields = {}
      for (const part of parts) if (part.filename === null) fields[part.name] = part.data.toString('utf8')
      const file = files[0]
      return {
        ...who,
        status: 200,
        textPlain,
        json: withOkCode({
          ok: true,
          user: auth.user,
          generation: auth.gen,
          requestId,
          fields,
          file: { field: file.name, filename: file.filename, contentType: file.contentType, size: file.data.length, sha256: sha256hex(file.data) },
        }),
      }
    }

    // generic /api/*
    /** @type {unknown} */
    let echo = null
    if (body.length > 0) {
      const type = (req.headers['content-type'] || '').split(';')[0].trim().toLowerCase()
      if (type === 'application/json' || type.endsWith('+json') || type === 'application/x-www-form-urlencoded') {
        if (type === 'application/x-www-form-urlencoded') echo = Object.fromEntries(new URLSearchParams(body.toString('utf8')))
        else {
          try {
            echo = JSON.parse(body.toString('utf8'))
          } catch {
            throw badRequest('malformed JSON body')
          }
        }
      } else {
        echo = body.toString('utf8')
      }
    }
    /** @type {Record<string, string>} */
    const query = {}
    url.searchParams.forEach((value, key) => {
      query[key] = value
    })
    return {
      ...who,
      status: 200,
      json: withOkCode({ ok: true, user: auth.user, method, path, query, body: echo, requestId, generation: auth.gen }),
    }
  }

  // ---- test controls ---------------------------------------------------------

  /**
   * Validate the whole patch first, then apply it (all or nothing).
   * @param {ControlPatch} patch
   * @returns {Settings}
   */
  const control = (patch) => {
    if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) throw new TypeError('control patch must be an object')
    const s = state
    const known = [
      'latencyMs', 'failRefresh', 'expiryMode', 'bodyCodeField', 'clockOffsetMs', 'expireAllNow',
      'revokeUser', 'graceSeconds', 'accessTtl', 'refreshTtl', 'codeTtl',
    ]
    const unknown = Object.keys(patch).filter((key) => !known.includes(key))
    if (unknown.length) throw new TypeError(`unknown control key(s): ${unknown.join(', ')}`)
    /** @type {Partial<Settings>} */
    const next = {}
    if (patch.latencyMs !== undefined) next.latencyMs = checkNumber(patch.latencyMs, 'latencyMs', { max: 60000 })
    if (patch.failRefresh !== undefined) {
      const f = patch.failRefresh
      if (f === null) next.failRefresh = null
      else {
        if (typeof f !== 'object' || !FAULT_MODES.includes(f.mode)) {
          throw new TypeError(`failRefresh must be null or { count, mode } with mode one of ${FAULT_MODES.map((m) => `'${m}'`).join(', ')}`)
        }
        const count = f.count === undefined ? 1 : checkNumber(f.count, 'failRefresh.count', { integer: true })
        next.failRefresh = count > 0 ? { count, mode: f.mode } : null
      }
    }
    if (patch.expiryMode !== undefined) next.expiryMode = checkExpiryMode(patch.expiryMode)
    if (patch.bodyCodeField !== undefined) next.bodyCodeField = checkField(patch.bodyCodeField)
    if (patch.clockOffsetMs !== undefined) {
      next.clockOffsetMs = checkNumber(patch.clockOffsetMs, 'clockOffsetMs', { min: -Number.MAX_SAFE_INTEGER })
    }
    if (patch.graceSeconds !== undefined) next.graceSeconds = checkNumber(patch.graceSeconds, 'graceSeconds')
    if (patch.accessTtl !== undefined) next.accessTtl = checkNumber(patch.accessTtl, 'accessTtl', { min: 1, integer: true })
    if (patch.refreshTtl !== undefined) next.refreshTtl = checkNumber(patch.refreshTtl, 'refreshTtl', { min: 1, integer: true })
    if (patch.codeTtl !== undefined) next.codeTtl = checkNumber(patch.codeTtl, 'codeTtl')
    if (patch.expireAllNow !== undefined && typeof patch.expireAllNow !== 'boolean') throw new TypeError('expireAllNow must be a boolean')
    if (patch.revokeUser !== undefined && (typeof patch.revokeUser !== 'string' || !patch.revokeUser)) {
      throw new TypeError('revokeUser must be a user id string')
    }

    Object.assign(s.settings, next)
    if (patch.expireAllNow) {
      // Everything issued up to now is expired; later tokens get a later issue time.
      const cut = Math.max(now(), s.clockFloor)
      s.clockFloor = cut
      s.settings.expireAllBefore = cut
    }
    if (patch.revokeUser) {
      for (const family of s.families.values()) if (family.user === patch.revokeUser) revokeFamily(family, 'revokeUser')
    }
    return settings()
  }

  /** @returns {Settings} */
  const settings = () => {
    const s = state.settings
    return { ...s, failRefresh: s.failRefresh ? { ...s.failRefresh } : null }
  }

  /** @returns {Stats} */
  const stats = () => JSON.parse(JSON.stringify(state.stats))

  const reset = () => {
    state = freshState()
  }

  /**
   * `/__*` routes. Not delayed by latencyMs and not recorded in stats.
   * @param {http.IncomingMessage} req
   * @param {string} path
   * @param {Buffer} body
   * @returns {Promise<Reply>}
   */
  const testRoute = async (req, path, body) => {
    const method = req.method || 'GET'
    /** @param {string[]} allow @returns {Reply} */
    const notAllowed = (allow) => ({
      status: 405,
      headers: { allow: allow.join(', ') },
      json: { error: 'method_not_allowed', message: `${method} ${path} is not allowed; use ${allow.join(', ')}` },
    })
    if (path === '/__control') {
      if (method === 'GET') return { status: 200, json: settings() }
      if (method !== 'POST') return notAllowed(['GET', 'POST'])
      const patch = parseObjectBody(req, body)
      try {
        return { status: 200, json: control(/** @type {ControlPatch} */ (patch)) }
      } catch (error) {
        throw badRequest(/** @type {Error} */ (error).message)
      }
    }
    if (path === '/__stats') {
      if (method !== 'GET') return notAllowed(['GET'])
      return { status: 200, json: stats() }
    }
    if (path === '/__reset') {
      if (method !== 'POST') return notAllowed(['POST'])
      reset()
      return { status: 200, json: settings() }
    }
    if (path === '/__code') {
      if (method !== 'POST') return notAllowed(['POST'])
      const user = requireString(parseObjectBody(req, body), ['user'])
      if (!USER_RE.test(user)) throw badRequest('user must match [A-Za-z0-9_]{1,64}')
      const code = `code-${user}-m${crypto.randomBytes(8).toString('hex')}`
      state.mintedCodes.set(code, now() + state.settings.codeTtl * 1000)
      return { status: 200, json: { code, expiresIn: state.settings.codeTtl } }
    }
    throw new HttpError(404, { error: 'not_found', message: `no such route: ${path}` })
  }

  /**
   * @param {http.IncomingMessage} req
   * @param {URL} url
   * @param {Buffer} body
   * @param {string} requestId
   * @returns {Promise<Reply>}
   */
  const appRoute = async (req, url, body, requestId) => {
    const method = req.method || 'GET'
    const path = url.pathname
    if (path === '/auth/login' || path === '/auth/refresh') {
      if (method !== 'POST') {
        return { status: 405, headers: { allow: 'POST' }, json: { error: 'method_not_allowed', message: `${method} ${path} is not allowed; use POST` } }
      }
      return path === '/auth/login' ? login(req, body) : refresh(req, body)
    }
    if (path === '/api' || path.startsWith('/api/')) return api(req, url, body, requestId)
    throw new HttpError(404, { error: 'not_found', message: `no such route: ${path}` })
  }

  // ---- HTTP plumbing ------------------------------------------------------------

  /**
   * Read the body up to the cap. Resolves null when it is too large.
   * @param {http.IncomingMessage} req
   * @returns {Promise<Buffer | null>}
   */
  const readBody = (req) =>
    new Promise((resolve, reject) => {
      const declared = Number(req.headers['content-length'])
      if (Number.isFinite(declared) && declared > opts.maxBodyBytes) return resolve(null)
      /** @type {Buffer[]} */
      const chunks = []
      let size = 0
      let done = false
      req.on('data', (/** @type {Buffer} */ chunk) => {
        if (done) return
        size += chunk.length
        if (size > opts.maxBodyBytes) {
          done = true
          resolve(null)
          return
        }
        chunks.push(chunk)
      })
      req.on('end', () => {
        if (!done) {
          done = true
          resolve(Buffer.concat(chunks))
        }
      })
      req.on('error', (error) => {
        if (!done) {
          done = true
          reject(error)
        }
      })
      // The client went away mid-body: nothing to answer.
      req.on('close', () => {
        if (!done) {
          done = true
          reject(new Error('request closed before its body was complete'))
        }
      })
    })

  /**
   * @param {http.IncomingMessage} req
   * @param {http.ServerResponse} res
   */
  const setCommonHeaders = (req, res) => {
    const origin = req.headers.origin
    if (origin) {
      res.setHeader('access-control-allow-origin', origin)
      res.setHeader('access-control-allow-credentials', 'true')
      res.setHeader('access-control-expose-headers', CORS_EXPOSE_HEADERS)
      res.setHeader('vary', 'Origin')
    }
    res.setHeader('cache-control', 'no-store')
  }

  /**
   * Set status and headers of `reply` on `res`; returns the payload to write.
   * @param {http.ServerResponse} res
   * @param {Reply} reply
   * @returns {Buffer}
   */
  const prepare = (res, reply) => {
    for (const [key, value] of Object.entries(reply.headers || {})) res.setHeader(key, value)
    /** @type {Buffer} */
    let payload
    if (reply.bytes) {
      payload = reply.bytes
      res.setHeader('content-type', reply.contentType || 'application/octet-stream')
    } else if (reply.json !== undefined) {
      payload = Buffer.from(JSON.stringify(reply.json), 'utf8')
      res.setHeader('content-type', reply.textPlain ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8')
    } else {
      payload = Buffer.alloc(0)
    }
    res.setHeader('content-length', String(payload.length))
    res.statusCode = reply.status
    return payload
  }

  /**
   * @param {http.ServerResponse} res
   * @param {Reply} reply
   */
  const send = (res, reply) => {
    if (res.destroyed || res.writableEnded) return
    res.end(prepare(res, reply))
  }

  /**
   * Call `done` once `stream` has ended, or destroy `socket` once it delivered more than
   * DRAIN_MAX_BYTES or DRAIN_MAX_MS passed; everything read is discarded.
   * @param {import('node:stream').Readable} stream the request, or the socket itself when no request was parsed
   * @param {import('node:stream').Duplex} socket
   * @param {() => void} done
   */
  const drain = (stream, socket, done) => {
    let drained = 0
    let finished = false
    /** @param {boolean} cutOff */
    const finish = (cutOff) => {
      if (finished) return
      finished = true
      clearTimeout(timer)
      timers.delete(timer)
      stream.off('data', onData)
      if (cutOff) socket.destroy()
      else done()
    }
    /** @param {Buffer} chunk */
    const onData = (chunk) => {
      drained += chunk.length
      if (drained > DRAIN_MAX_BYTES) finish(true)
    }
    const timer = setTimeout(() => finish(true), DRAIN_MAX_MS)
    timers.add(timer)
    stream.on('data', onData)
    stream.once('end', () => finish(false))
    stream.once('close', () => finish(false))
    stream.resume()
  }

  /**
   * Answer before the request body was read, without cutting the client off: the whole answer goes
   * out at once (its content-length tells the client it is complete), the rest of the body is drained,
   * and only then does the response end, which closes the connection (`Connection: close`).
   * @param {http.IncomingMessage} req
   * @param {http.ServerResponse} res
   * @param {Reply} reply
   */
  const sendEarly = (req, res, reply) => {
    if (res.destroyed || res.writableEnded) return
    const payload = prepare(res, { ...reply, headers: { ...reply.headers, connection: 'close' } })
    if (req.complete) {
      res.end(payload)
      return
    }
    res.write(payload)
    drain(req, req.socket, () => res.end())
  }

  /**
   * @param {number} requestSeq
   * @param {string} requestId
   * @param {string} method
   * @param {string} route
   * @param {Reply} reply
   */
  const record = (requestSeq, requestId, method, route, reply) => {
    const s = state.stats
    /** @type {Hit} */
    const hit = {
      seq: requestSeq,
      requestId,
      method,
      route,
      status: reply.action ? 0 : reply.status,
      user: reply.user === undefined ? null : reply.user,
      generation: reply.generation === undefined ? null : reply.generation,
      expired: reply.expired === true,
      reason: reply.reason === undefined ? null : reply.reason,
      at: now(),
    }
    const list = s.hits[route] || (s.hits[route] = [])
    list.push(hit)
    if (list.length > MAX_LOG_ENTRIES) list.shift()
    s.requests.push(hit)
    if (s.requests.length > MAX_LOG_ENTRIES) s.requests.shift()
  }

  /**
   * @param {http.IncomingMessage} req
   * @param {http.ServerResponse} res
   */
  const handle = async (req, res) => {
    const started = Date.now()
    const requestSeq = ++seq
    const requestId = `req-${requestSeq}`
    const method = req.method || 'GET'
    res.setHeader('x-request-id', requestId)
    setCommonHeaders(req, res)
    let url
    try {
      url = new URL(req.url || '/', 'http://localhost')
    } catch {
      send(res, { status: 400, json: { error: 'bad_request', message: 'malformed request target' } })
      return
    }
    const path = url.pathname

    if (method === 'OPTIONS') {
      const requested = String(req.headers['access-control-request-headers'] || '')
        .split(',')
        .map((h) => h.trim())
        .filter(Boolean)
      const allowHeaders = [...CORS_ALLOW_HEADERS]
      for (const h of requested) if (!allowHeaders.some((a) => a.toLowerCase() === h.toLowerCase())) allowHeaders.push(h)
      send(res, {
        status: 204,
        headers: {
          'access-control-allow-origin': req.headers.origin || '*',
          'access-control-allow-methods': CORS_METHODS,
          'access-control-allow-headers': allowHeaders.join(', '),
          'access-control-max-age': '600',
        },
      })
      return
    }

    const isTest = path.startsWith('/__')
    /** @type {Reply} */
    let reply
    /** @type {Buffer | null} */
    let body
    try {
      body = await readBody(req)
    } catch {
      res.destroy()
      return
    }
    if (body === null) {
      reply = {
        status: 413,
        json: { error: 'payload_too_large', message: `request body exceeds ${opts.maxBodyBytes} bytes` },
        reason: 'payload too large',
      }
      if (path === '/api/upload') reply.textPlain = true
    } else {
      if (!isTest && state.settings.latencyMs > 0) await sleep(state.settings.latencyMs)
      if (closed) return
      try {
        reply = isTest ? await testRoute(req, path, body) : await appRoute(req, url, body, requestId)
      } catch (error) {
        if (error instanceof HttpError) {
          reply = { status: error.status, json: error.body, reason: String(error.body.message || error.body.error) }
          if (path === '/api/upload') reply.textPlain = true
        } else {
          log(`tokenrelay reference server: internal error on ${method} ${path}: ${error instanceof Error ? error.stack : String(error)}`)
          reply = { status: 500, json: { error: 'server_error', message: 'internal error (see server log)' }, reason: 'internal error' }
        }
      }
    }
    if (!isTest) record(requestSeq, requestId, method, path, reply)
    if (reply.delayMs) await sleep(reply.delayMs)
    if (closed) return
    log(`${method} ${req.url} → ${reply.action ? reply.action : reply.status} ${Date.now() - started}ms${reply.reason ? ` (${reply.reason})` : ''}`)
    if (reply.action === 'drop') {
      req.socket.destroy()
      return
    }
    if (reply.action === 'hang') {
      hanging.add(res)
      res.on('close', () => hanging.delete(res))
      return
    }
    if (body === null) sendEarly(req, res, reply)
    else send(res, reply)
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error) => {
      log(`tokenrelay reference server: unexpected error: ${error instanceof Error ? error.stack : String(error)}`)
      if (!res.headersSent && !res.destroyed) {
        res.statusCode = 500
        res.setHeader('content-type', 'application/json; charset=utf-8')
        res.end(JSON.stringify({ error: 'server_error', message: 'internal error' }))
      } else {
        res.destroy()
      }
    })
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  /** @type {WeakSet<import('node:stream').Duplex>} */
  const refused = new WeakSet()
  // Requests node:http could not parse. The parser keeps reporting the same error for every later
  // chunk on the socket: answer once, then only drain.
  server.on('clientError', (error, socket) => {
    if (refused.has(socket)) return
    const code = /** @type {NodeJS.ErrnoException} */ (error).code
    if (!socket.writable || code === 'ECONNRESET') {
      socket.destroy()
      return
    }
    refused.add(socket)
    const [status, json] =
      code === 'HPE_HEADER_OVERFLOW'
        ? [431, { error: 'request_header_fields_too_large', message: `request headers exceed ${http.maxHeaderSize} bytes` }]
        : [400, { error: 'bad_request', message: 'malformed HTTP request' }]
    const payload = JSON.stringify(json)
    // Half-close: the answer and a FIN go out now, the read side stays open for the drain.
    socket.end(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(payload)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${payload}`,
    )
    drain(socket, socket, () => socket.destroy())
  })

  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject)
      resolve(undefined)
    })
  })
  const address = server.address()
  if (!address || typeof address === 'string') throw new Error('tokenrelay reference server: unexpected listen address')
  const port = address.port
  const hostForUrl = opts.host.includes(':') ? `[${opts.host}]` : opts.host
  const url = `http://${hostForUrl}:${port}`

  /** @type {Promise<void> | null} */
  let closing = null
  const close = () => {
    if (!closing) {
      closed = true
      closing = new Promise((resolve) => {
        for (const timer of timers) clearTimeout(timer)
        timers.clear()
        server.close(() => resolve())
        for (const res of hanging) res.destroy()
        hanging.clear()
        server.closeAllConnections()
        for (const socket of sockets) socket.destroy()
      })
    }
    return closing
  }

  return {
    url,
    port,
    close,
    stats,
    control,
    reset,
  }
}
