// @ts-check
/**
 * Test controls: `control(patch)`, `stats()`, `reset()` in process, and the same over HTTP on
 * `/__control`, `/__stats`, `/__reset`, `/__code`. These routes get no `latencyMs` and are not
 * recorded in stats.
 */
import { FAULT_MODES, checkNumber, checkExpiryMode, checkField } from './options.js'
import { resetState } from './state.js'
import { expireAllNow, mintCode, revokeUser } from './tokens.js'
import { badRequest, errorHandler, errorReply, notAllowed, objectBodies, objectWithField, respond } from './http.js'

/** @typedef {import('./state.js').State} State */
/** @typedef {import('./state.js').Settings} Settings */
/** @typedef {import('./state.js').Stats} Stats */
/** @typedef {import('./options.js').ExpiryMode} ExpiryMode */
/** @typedef {import('./options.js').FaultMode} FaultMode */

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

const CONTROL_KEYS = [
  'latencyMs',
  'failRefresh',
  'expiryMode',
  'bodyCodeField',
  'clockOffsetMs',
  'expireAllNow',
  'revokeUser',
  'graceSeconds',
  'accessTtl',
  'refreshTtl',
  'codeTtl',
]
const USER_PATTERN = '^[A-Za-z0-9_]{1,64}$'

/**
 * @param {State} state
 * @returns {Settings}
 */
export function settings(state) {
  const s = state.settings
  return { ...s, failRefresh: s.failRefresh ? { ...s.failRefresh } : null }
}

/**
 * A snapshot (deep copy).
 * @param {State} state
 * @returns {Stats}
 */
export function stats(state) {
  return JSON.parse(JSON.stringify(state.stats))
}

/**
 * Validate the whole patch first, then apply it (all or nothing).
 * @param {State} state
 * @param {ControlPatch} patch
 * @returns {Settings}
 */
export function control(state, patch) {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) throw new TypeError('control patch must be an object')
  const unknown = Object.keys(patch).filter((key) => !CONTROL_KEYS.includes(key))
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

  Object.assign(state.settings, next)
  if (patch.expireAllNow) expireAllNow(state)
  if (patch.revokeUser) revokeUser(state, patch.revokeUser)
  return settings(state)
}

/**
 * Forget users, codes, families, stats and controls (back to the start options); new signing key.
 * @param {State} state
 */
export function reset(state) {
  resetState(state)
}

/**
 * The `/__*` routes.
 * @param {State} state
 * @returns {import('fastify').FastifyPluginAsync}
 */
export function controlRoutes(state) {
  /** @param {import('./http.js').Reply['json']} json */
  const ok = (json) => ({ status: 200, json })
  return async (app) => {
    notAllowed(state, app, '/__control', ['GET', 'POST'])
    notAllowed(state, app, '/__stats', ['GET'])
    notAllowed(state, app, '/__reset', ['POST'])
    notAllowed(state, app, '/__code', ['POST'])
    app.get('/__control', (request, reply) => respond(state, request, reply, ok(settings(state))))
    app.get('/__stats', (request, reply) => respond(state, request, reply, ok(stats(state))))
    app.post('/__reset', (request, reply) => {
      reset(state)
      return respond(state, request, reply, ok(settings(state)))
    })

    app.register(async (scope) => {
      objectBodies(scope)
      scope.post(
        '/__control',
        {
          schema: { body: { type: 'object', description: 'JSON body must be an object' } },
          errorHandler: errorHandler(state),
        },
        (request, reply) => {
          let answer
          try {
            answer = control(state, /** @type {ControlPatch} */ (request.body))
          } catch (error) {
            return respond(state, request, reply, errorReply(state, request, badRequest(/** @type {Error} */ (error).message)))
          }
          return respond(state, request, reply, ok(answer))
        },
      )
      scope.post(
        '/__code',
        {
          schema: {
            body: objectWithField(['user'], {
              user: { allOf: [{ pattern: USER_PATTERN, description: 'user must match [A-Za-z0-9_]{1,64}' }] },
            }),
          },
          errorHandler: errorHandler(state),
        },
        (request, reply) => respond(state, request, reply, ok(mintCode(state, /** @type {{ user: string }} */ (request.body).user))),
      )
    })
  }
}
