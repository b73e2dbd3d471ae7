// @ts-check
/**
 * The app routes: `/auth/login`, `/auth/refresh`, `/auth/logout` and the Bearer-protected `/api/*` (generic echo,
 * forbidden, download, upload), with the expiry answer of each `expiryMode`.
 */
import crypto from 'node:crypto'
import multipart from '@fastify/multipart'
import { checkAccess, login, revokeLogin, rotate, sha256hex } from './tokens.js'
import {
  HttpError,
  badRequest,
  discardBodies,
  echoBodies,
  errorHandler,
  errorReply,
  notAllowed,
  notFound,
  objectBodies,
  objectWithField,
  pathOf,
  respond,
} from './http.js'

/** @typedef {import('./state.js').State} State */
/** @typedef {import('./state.js').FaultMode} FaultMode */
/** @typedef {import('./http.js').Reply} Reply */
/** @typedef {import('./tokens.js').AccessCheck} AccessCheck */
/** @typedef {import('fastify').FastifyRequest} FastifyRequest */
/** @typedef {import('fastify').FastifyReply} FastifyReply */

const MAX_DELAY_MS = 10000
const MAX_DOWNLOAD_BYTES = 10 * 1024 * 1024
const REALM = 'tokenrelay'
const API_METHODS = ['GET', 'POST', 'PUT', 'DELETE']

/** `?delay=<ms>` on every `/api/*` route: a number ≥ 0 (clamped to MAX_DELAY_MS). */
const DELAY_QUERY = {
  type: 'object',
  properties: {
    delay: {
      type: 'string',
      pattern: '^\\s*(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?\\s*$',
      description: 'delay must be a number of milliseconds ≥ 0',
    },
  },
}

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

/**
 * The answer to a missing/expired/invalid access token, per expiry mode.
 * @param {State} state
 * @param {Extract<AccessCheck, { ok: false }>} failure
 * @returns {Reply}
 */
function expiryReply(state, failure) {
  const { expiryMode, bodyCodeField: field } = state.settings
  const base = { expired: true, reason: failure.description, user: failure.user, generation: failure.gen }
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
 * @param {State} state
 * @param {Record<string, unknown>} body
 */
function withOkCode(state, body) {
  return state.settings.expiryMode === '401' ? body : { [state.settings.bodyCodeField]: 0, ...body }
}

/** @param {FastifyRequest} request */
function delayOf(request) {
  const { delay } = /** @type {{ delay?: string }} */ (request.query)
  return delay === undefined ? 0 : Math.min(Number(delay), MAX_DELAY_MS)
}

/**
 * Check the Bearer token; the expiry answer (held for `?delay` too) when it is refused.
 * @param {State} state
 * @param {FastifyRequest} request
 * @returns {Promise<{ ok: true, user: string, gen: number, who: Reply & { status: 0 } } | { ok: false, reply: Reply }>}
 */
async function authorize(state, request) {
  const delayMs = delayOf(request)
  const auth = await checkAccess(state, request.headers.authorization)
  if (!auth.ok) return { ok: false, reply: { ...expiryReply(state, auth), delayMs } }
  return { ok: true, user: auth.user, gen: auth.gen, who: { status: 0, user: auth.user, generation: auth.gen, delayMs } }
}

/**
 * The upload's parts, read before the token is checked (so the body cap applies whatever the
 * token). Over `maxBodyBytes` in total → the 413 error; a malformed body → `{ error }`, answered
 * after the token check.
 * @param {State} state
 * @param {FastifyRequest} request
 * @returns {Promise<{ fields: Record<string, string>, files: { field: string, filename: string, contentType: string, data: Buffer }[] } | { error: string }>}
 */
async function readUpload(state, request) {
  const needsMultipart = 'upload needs a multipart/form-data body with a boundary'
  if (!request.isMultipart() || !/;\s*boundary=/i.test(String(request.headers['content-type']))) return { error: needsMultipart }
  const max = state.opts.maxBodyBytes
  const tooLarge = () => new HttpError(413, { error: 'payload_too_large' })
  if (Number(request.headers['content-length']) > max) throw tooLarge()
  /** @type {Record<string, string>} */
  const fields = {}
  /** @type {{ field: string, filename: string, contentType: string, data: Buffer }[]} */
  const files = []
  const reading = (async () => {
    for await (const part of request.parts({ limits: { fileSize: max, fieldSize: max } })) {
      if (part.type === 'file') {
        files.push({ field: part.fieldname, filename: part.filename, contentType: part.mimetype, data: await part.toBuffer() })
      } else {
        fields[part.fieldname] = typeof part.value === 'string' ? part.value : JSON.stringify(part.value)
      }
    }
  })()
  // A chunked body has no content-length: count it. parts() has piped the request by now.
  const raw = request.raw
  /** @type {(error: Error) => void} */
  let overflow = () => {}
  const overflowed = new Promise((resolve, reject) => {
    overflow = reject
  })
  let received = 0
  /** @param {Buffer} chunk */
  const count = (chunk) => {
    received += chunk.length
    if (received > max) overflow(tooLarge())
  }
  raw.on('data', count)
  try {
    await Promise.race([reading, overflowed])
    return { fields, files }
  } catch (error) {
    if (/** @type {{ statusCode?: number }} */ (error).statusCode === 413) {
      raw.unpipe()
      throw tooLarge()
    }
    return { error: `malformed multipart body: ${/** @type {Error} */ (error).message}` }
  } finally {
    raw.off('data', count)
    reading.catch(() => {})
  }
}

/**
 * @param {State} state
 * @returns {import('fastify').FastifyPluginAsync}
 */
export function appRoutes(state) {
  /**
   * `POST /auth/login` body `{code}` or `{authCode}`. Bad bodies count as failed logins.
   * @param {string | null} code
   * @param {FastifyRequest} request
   * @param {unknown} [bodyError]
   * @returns {Promise<Reply>}
   */
  const loginReply = async (code, request, bodyError) => {
    if (code === null) {
      const reply = errorReply(state, request, bodyError)
      if (reply.status === 400) state.stats.loginFailures++
      return reply
    }
    const outcome = await login(state, code)
    if (!outcome.ok) {
      state.stats.loginFailures++
      return { status: 400, json: { errcode: 40029, errmsg: 'invalid code' }, reason: outcome.reason }
    }
    state.stats.logins++
    return { status: 200, json: outcome.pair, user: outcome.user, generation: 1 }
  }

  /**
   * `POST /auth/refresh` body `{refreshToken}` or `{refresh_token}`. An armed `failRefresh` fails
   * the call whatever its body, so a bad body reaches here too (`bodyError`).
   * @param {string | null} token
   * @param {FastifyRequest} request
   * @param {unknown} [bodyError]
   * @returns {Promise<Reply>}
   */
  const refreshReply = async (token, request, bodyError) => {
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
    if (token === null) {
      s.stats.refreshFailures++
      if (fault) return { status: 0, action: 'drop', reason: 'fault:succeed-then-drop' }
      return errorReply(state, request, bodyError)
    }
    let outcome
    try {
      outcome = await rotate(state, token)
    } catch (error) {
      s.stats.refreshFailures++
      if (fault) return { status: 0, action: 'drop', reason: 'fault:succeed-then-drop' }
      return errorReply(state, request, error)
    }
    /** @type {Reply} */
    let reply
    if (outcome.ok) {
      s.stats.refreshes++
      reply = {
        status: 200,
        json: outcome.pair,
        user: outcome.user,
        generation: outcome.gen,
        ...(outcome.replay ? { reason: 'grace replay' } : {}),
      }
    } else {
      s.stats.refreshFailures++
      reply = {
        status: 400,
        json: { error: 'invalid_grant', error_description: outcome.description },
        reason: outcome.description,
        user: outcome.user,
        generation: outcome.gen,
      }
    }
    if (fault) return { ...reply, status: 0, action: 'drop', reason: `fault:succeed-then-drop (${reply.reason || 'rotated'})` }
    return reply
  }

  /**
   * `POST /auth/logout`: revokes the refresh-token family of the login the Bearer access token belongs to, or
   * of the `refreshToken` (`refresh_token`) in the body. Neither valid → the expiry answer.
   * @param {FastifyRequest} request
   * @returns {Promise<Reply>}
   */
  const logoutReply = async (request) => {
    const auth = await checkAccess(state, request.headers.authorization)
    const body = /** @type {{ refreshToken?: unknown, refresh_token?: unknown }} */ (request.body)
    const token = body.refreshToken !== undefined ? body.refreshToken : body.refresh_token
    const revoked = revokeLogin(state, { fam: auth.ok ? auth.fam : undefined, refreshToken: typeof token === 'string' ? token : undefined })
    // A valid access token always names a family (families go only with reset(), which voids every token).
    if (!revoked) return expiryReply(state, /** @type {Extract<AccessCheck, { ok: false }>} */ (auth))
    state.stats.logouts++
    return { status: 200, json: { ok: true }, user: revoked.user, generation: auth.ok ? auth.gen : revoked.gen }
  }

  /**
   * Generic `/api/*`: echoes method, path, query and body.
   * @param {FastifyRequest} request
   * @param {FastifyReply} reply
   */
  const generic = async (request, reply) => {
    const auth = await authorize(state, request)
    if (!auth.ok) return respond(state, request, reply, auth.reply)
    /** @type {Record<string, string>} */
    const query = {}
    new URL(request.url, 'http://localhost').searchParams.forEach((value, key) => {
      query[key] = value
    })
    const body = request.body === undefined ? null : request.body
    return respond(state, request, reply, {
      ...auth.who,
      status: 200,
      json: withOkCode(state, {
        ok: true,
        user: auth.user,
        method: request.method,
        path: pathOf(request),
        query,
        body,
        requestId: request.id,
        generation: auth.gen,
      }),
    })
  }

  /**
   * `/api/forbidden`: a valid token without the scope, which is not an expiry.
   * @param {FastifyRequest} request
   * @param {FastifyReply} reply
   */
  const forbidden = async (request, reply) => {
    const auth = await authorize(state, request)
    if (!auth.ok) return respond(state, request, reply, auth.reply)
    return respond(state, request, reply, {
      ...auth.who,
      status: 403,
      headers: {
        'www-authenticate': `Bearer realm="${REALM}", error="insufficient_scope", error_description="this resource needs a scope the token does not have"`,
      },
      json: { error: 'insufficient_scope', error_description: 'this resource needs a scope the token does not have' },
      reason: 'insufficient_scope',
    })
  }

  /**
   * `GET /api/download/:name`: `downloadContent(name, size)` bytes.
   * @param {FastifyRequest} request
   * @param {FastifyReply} reply
   */
  const download = async (request, reply) => {
    const path = pathOf(request)
    let name
    try {
      name = decodeURIComponent(path.slice('/api/download/'.length))
    } catch {
      throw badRequest('malformed download name')
    }
    if (!name || name.includes('/')) throw notFound(path)
    const auth = await authorize(state, request)
    if (!auth.ok) return respond(state, request, reply, auth.reply)
    let size = 1024
    const sizeParam = new URL(request.url, 'http://localhost').searchParams.get('size')
    if (sizeParam !== null) {
      size = Number(sizeParam)
      // After the token check, as before: an expired download with a bad size gets the expiry answer.
      if (!sizeParam.trim() || !Number.isInteger(size) || size < 0 || size > MAX_DOWNLOAD_BYTES) {
        throw badRequest(`size must be an integer between 0 and ${MAX_DOWNLOAD_BYTES}`)
      }
    }
    const bytes = downloadContent(name, size)
    return respond(state, request, reply, {
      ...auth.who,
      status: 200,
      bytes,
      contentType: 'application/octet-stream',
      headers: {
        'content-disposition': `attachment; filename="${name.replace(/["\\\r\n]/g, '_')}"`,
        'x-content-sha256': sha256hex(bytes),
      },
    })
  }

  /**
   * `POST /api/upload`: multipart with exactly one file part. Every answer is text/plain.
   * @param {FastifyRequest} request
   * @param {FastifyReply} reply
   */
  const upload = async (request, reply) => {
    const body = await readUpload(state, request)
    const auth = await authorize(state, request)
    if (!auth.ok) return respond(state, request, reply, auth.reply)
    /** @param {string} message */
    const refuse = (message) => respond(state, request, reply, { ...auth.who, status: 400, json: { error: 'bad_request', message } })
    if ('error' in body) return refuse(body.error)
    if (body.files.length !== 1) return refuse(`upload needs exactly one file part, got ${body.files.length}`)
    const file = body.files[0]
    return respond(state, request, reply, {
      ...auth.who,
      status: 200,
      json: withOkCode(state, {
        ok: true,
        user: auth.user,
        generation: auth.gen,
        requestId: request.id,
        fields: body.fields,
        file: {
          field: file.field,
          filename: file.filename,
          contentType: file.contentType,
          size: file.data.length,
          sha256: sha256hex(file.data),
        },
      }),
    })
  }

  return async (app) => {
    const withDelay = { schema: { querystring: DELAY_QUERY } }
    notAllowed(state, app, '/auth/login', ['POST'])
    notAllowed(state, app, '/auth/refresh', ['POST'])
    notAllowed(state, app, '/auth/logout', ['POST'])
    notAllowed(state, app, '/api', API_METHODS)
    notAllowed(state, app, '/api/*', API_METHODS)
    notAllowed(state, app, '/api/forbidden', API_METHODS)
    notAllowed(state, app, '/api/download/*', ['GET'])
    notAllowed(state, app, '/api/upload', ['POST'], { textPlain: true })
    app.route({ method: API_METHODS, url: '/api/forbidden', ...withDelay, handler: forbidden })
    app.get('/api/download/*', withDelay, download)

    app.register(async (scope) => {
      objectBodies(scope)
      scope.post(
        '/auth/login',
        {
          schema: { body: objectWithField(['code', 'authCode']) },
          errorHandler: errorHandler(state, (request, error) => loginReply(null, request, error)),
        },
        async (request, reply) => {
          const body = /** @type {{ code?: string, authCode?: string }} */ (request.body)
          return respond(state, request, reply, await loginReply(body.code !== undefined ? body.code : body.authCode || '', request))
        },
      )
      scope.post(
        '/auth/refresh',
        {
          schema: { body: objectWithField(['refreshToken', 'refresh_token']) },
          errorHandler: errorHandler(state, (request, error) => refreshReply(null, request, error)),
        },
        async (request, reply) => {
          const body = /** @type {{ refreshToken?: string, refresh_token?: string }} */ (request.body)
          const token = body.refreshToken !== undefined ? body.refreshToken : body.refresh_token || ''
          return respond(state, request, reply, await refreshReply(token, request))
        },
      )
      scope.post('/auth/logout', async (request, reply) => respond(state, request, reply, await logoutReply(request)))
    })

    app.register(async (scope) => {
      echoBodies(scope)
      scope.route({ method: API_METHODS, url: '/api', ...withDelay, handler: generic })
      scope.route({ method: API_METHODS, url: '/api/*', ...withDelay, handler: generic })
    })

    app.register(async (scope) => {
      discardBodies(scope)
      await scope.register(multipart, {
        // As RFC 7578 reads: a part is a file when it has a filename; keep the name as sent.
        isPartAFile: (/** @type {unknown} */ field, /** @type {unknown} */ type, /** @type {string | undefined} */ filename) =>
          filename !== undefined,
        preservePath: true,
      })
      scope.post('/api/upload', { ...withDelay, config: { textPlain: true } }, upload)
    })
  }
}
