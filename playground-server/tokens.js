// @ts-check
/**
 * Tokens: login codes, issuing access + refresh pairs, rotation with reuse detection (RFC 9700),
 * revocation, and checking access tokens. No HTTP here: the routes turn these outcomes into answers.
 */
import crypto from 'node:crypto'
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose'
import { now } from './state.js'

/** @typedef {import('./state.js').State} State */
/** @typedef {import('./state.js').Family} Family */
/** @typedef {import('./state.js').RefreshRecord} RefreshRecord */
/** @typedef {import('./state.js').SealedPair} SealedPair */

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
 * @typedef {{ ok: true, pair: TokenPair, user: string, gen: number, replay: boolean }
 *   | { ok: false, description: string, user: string | null, gen: number | null }} RotateOutcome
 * `gen` is the generation of the presented refresh token.
 */

/**
 * @typedef {{ ok: true, user: string, gen: number, fam: string }
 *   | { ok: false, kind: 'missing' | 'expired' | 'invalid', description: string, user: string | null, gen: number | null }} AccessCheck
 */

const CODE_RE = /^code-([A-Za-z0-9_]{1,64})-([A-Za-z0-9._~-]{1,128})$/

/** @param {string | Buffer} value */
export function sha256hex(value) {
  return crypto.createHash('sha256').update(value).digest('hex')
}

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

/**
 * A strictly increasing server-clock ms, so "expire all now" has an exact cut.
 * @param {State} state
 */
function nextIssueMs(state) {
  const t = Math.max(now(state), state.clockFloor + 1)
  state.clockFloor = t
  return t
}

/**
 * @param {State} state
 * @param {string} id
 */
function userFor(state, id) {
  let user = state.users.get(id)
  if (!user) {
    user = { id, openid: `openid-${id}` }
    state.users.set(id, user)
  }
  return user
}

/**
 * Issue an access + refresh token pair of generation `gen` in `family`.
 * @param {State} state
 * @param {Family} family
 * @param {number} gen
 * @returns {Promise<TokenPair>}
 */
async function issuePair(state, family, gen) {
  const { accessTtl, refreshTtl } = state.settings
  const key = state.accessKey
  const user = userFor(state, family.user)
  const t = nextIssueMs(state)
  const iat = Math.floor(t / 1000)
  const refreshToken = 'rt_' + crypto.randomBytes(32).toString('base64url')
  state.refreshTokens.set(sha256hex(refreshToken), {
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
    .sign(key)
  return { accessToken, refreshToken, expiresIn: accessTtl, refreshExpiresIn: refreshTtl, user: { ...user } }
}

/**
 * Mint a code for `POST /__code`: single use, expires after `codeTtl` (server clock).
 * @param {State} state
 * @param {string} user
 */
export function mintCode(state, user) {
  const code = `code-${user}-m${crypto.randomBytes(8).toString('hex')}`
  state.mintedCodes.set(code, now(state) + state.settings.codeTtl * 1000)
  return { code, expiresIn: state.settings.codeTtl }
}

/**
 * Redeem a login code (any well-formed code once; minted codes until they expire) and start a new
 * token family.
 * @param {State} state
 * @param {string} code
 * @returns {Promise<{ ok: true, pair: TokenPair, user: string } | { ok: false, reason: string }>}
 */
export async function login(state, code) {
  const match = CODE_RE.exec(code)
  if (!match) return { ok: false, reason: 'malformed code' }
  if (state.usedCodes.has(code)) return { ok: false, reason: 'code already used' }
  state.usedCodes.add(code)
  const mintedExpiry = state.mintedCodes.get(code)
  state.mintedCodes.delete(code)
  if (mintedExpiry !== undefined && mintedExpiry <= now(state)) return { ok: false, reason: 'code expired' }
  const user = userFor(state, match[1])
  /** @type {Family} */
  const family = {
    id: 'fam_' + crypto.randomBytes(9).toString('base64url'),
    user: user.id,
    latestGen: 0,
    revoked: false,
    revokedReason: null,
  }
  state.families.set(family.id, family)
  return { ok: true, pair: await issuePair(state, family, 1), user: user.id }
}

/**
 * @param {State} state
 * @param {Family} family
 * @param {string} reason
 */
function revokeFamily(state, family, reason) {
  if (family.revoked) return
  family.revoked = true
  family.revokedReason = reason
  state.stats.familiesRevoked++
}

/**
 * Revoke every refresh-token family of `user`.
 * @param {State} state
 * @param {string} user
 */
export function revokeUser(state, user) {
  for (const family of state.families.values()) if (family.user === user) revokeFamily(state, family, 'revokeUser')
}

/**
 * Logout: revoke the family of a login, named by a valid access token's `fam` or by one of its refresh tokens
 * (so a client whose access token has expired can still log out). Access tokens already issued stay valid
 * until they expire (stateless JWTs).
 * @param {State} state
 * @param {{ fam?: string, refreshToken?: string }} by
 * @returns {{ user: string, gen: number } | null} the family's user and latest generation; null when nothing matched
 */
export function revokeLogin(state, by) {
  const record = by.refreshToken ? state.refreshTokens.get(sha256hex(by.refreshToken)) : undefined
  const family = state.families.get(by.fam || (record ? record.familyId : ''))
  if (!family) return null
  revokeFamily(state, family, 'logout')
  return { user: family.user, gen: family.latestGen }
}

/**
 * Every access token issued up to now is expired; later tokens get a later issue time.
 * @param {State} state
 */
export function expireAllNow(state) {
  const cut = Math.max(now(state), state.clockFloor)
  state.clockFloor = cut
  state.settings.expireAllBefore = cut
}

/**
 * Trade a refresh token for a new pair. A retired token inside the grace window gets the pair its
 * first use got; outside it, the whole family is revoked.
 * @param {State} state
 * @param {string} token
 * @returns {Promise<RotateOutcome>}
 */
export async function rotate(state, token) {
  /** @param {string} description @param {RefreshRecord} [record] @returns {RotateOutcome} */
  const refused = (description, record) => ({ ok: false, description, user: record ? record.user : null, gen: record ? record.gen : null })
  const record = state.refreshTokens.get(sha256hex(token))
  if (!record) return refused('unknown refresh token')
  const family = state.families.get(record.familyId)
  if (!family || family.revoked) return refused('refresh token revoked', record)
  const t = now(state)
  if (record.retiredAt !== null) {
    if (record.successor && t < record.retiredAt + state.settings.graceSeconds * 1000) {
      const pair = unseal(await record.successor, token)
      state.stats.graceReplays++
      return { ok: true, pair, user: record.user, gen: record.gen, replay: true }
    }
    state.stats.reuseDetections++
    revokeFamily(state, family, 'reuse')
    return refused('refresh token reuse detected; token family revoked', record)
  }
  if (record.expiresAt <= t) return refused('refresh token expired', record)
  // Retire synchronously, before any await: a concurrent use of the same
  // token sees it retired (grace replay or reuse detection), never rotates twice.
  record.retiredAt = t
  const pending = issuePair(state, family, record.gen + 1)
  record.successor = pending.then((pair) => seal(pair, token))
  record.successor.catch(() => {})
  return { ok: true, pair: await pending, user: record.user, gen: record.gen, replay: false }
}

/**
 * Check the `Authorization` header of an `/api/*` request.
 * @param {State} state
 * @param {string | undefined} header
 * @returns {Promise<AccessCheck>}
 */
export async function checkAccess(state, header) {
  const match = header ? /^Bearer[ ]+([A-Za-z0-9._~+/-]+=*)\s*$/i.exec(header) : null
  if (!match) {
    return {
      ok: false,
      kind: 'missing',
      description: header ? 'authorization header is not a Bearer token' : 'missing bearer token',
      user: null,
      gen: null,
    }
  }
  const { accessKey, settings } = state
  try {
    const { payload } = await jwtVerify(match[1], accessKey, {
      algorithms: ['HS256'],
      currentDate: new Date(now(state)),
      requiredClaims: ['sub', 'exp', 'iat'],
    })
    const { sub, fam, gen, iat_ms: issuedMs } = payload
    if (typeof sub !== 'string' || typeof fam !== 'string' || typeof gen !== 'number' || typeof issuedMs !== 'number') {
      return { ok: false, kind: 'invalid', description: 'access token is missing claims', user: null, gen: null }
    }
    const cut = settings.expireAllBefore
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
