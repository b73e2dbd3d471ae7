// @ts-check
/**
 * What every route shares: the `Reply` a route decides on and the one `respond()` that records,
 * delays, logs and sends it; the body parsers of each kind of route; the 400 messages of the JSON
 * schemas; the `latencyMs` wait.
 */
import { recordHit, sleep, now } from './state.js'
import { answerEarly } from './drain.js'

/** @typedef {import('./state.js').State} State */
/** @typedef {import('fastify').FastifyInstance} FastifyInstance */
/** @typedef {import('fastify').FastifyRequest} FastifyRequest */
/** @typedef {import('fastify').FastifyReply} FastifyReply */

/**
 * The answer a route decided on; `respond()` records, delays and sends it.
 * @typedef {object} Reply
 * @property {number} status
 * @property {unknown} [json] JSON body
 * @property {Buffer} [bytes] raw body
 * @property {string} [contentType] content type of `bytes`
 * @property {Record<string, string>} [headers]
 * @property {number} [delayMs] `?delay` applied after the decision
 * @property {'drop' | 'hang'} [action]
 * @property {string | null} [user]
 * @property {number | null} [generation]
 * @property {boolean} [expired]
 * @property {string | null} [reason]
 */

export class HttpError extends Error {
  /**
   * @param {number} status
   * @param {Record<string, unknown>} body
   */
  constructor(status, body) {
    super(String(body.message || body.error || status))
    this.statusCode = status
    this.body = body
  }
}

/** @param {string} message */
export function badRequest(message) {
  return new HttpError(400, { error: 'bad_request', message })
}

/**
 * @param {string} path
 * @returns {HttpError}
 */
export function notFound(path) {
  return new HttpError(404, { error: 'not_found', message: `no such route: ${path}` })
}

/**
 * Per-request bookkeeping, kept off the Fastify request so no decoration is needed.
 * @type {WeakMap<FastifyRequest, { started: number, path: string, waited: boolean }>}
 */
const infos = new WeakMap()

/**
 * Called first for every request (before CORS answers preflights).
 * @param {FastifyRequest} request
 * @param {FastifyReply} reply
 */
export function startRequest(request, reply) {
  let path
  try {
    path = new URL(request.url, 'http://localhost').pathname
  } catch {
    path = request.url.split('?')[0]
  }
  infos.set(request, { started: Date.now(), path, waited: false })
  reply.header('x-request-id', request.id)
  reply.header('cache-control', 'no-store')
}

/** @param {FastifyRequest} request */
function infoOf(request) {
  let info = infos.get(request)
  if (!info) {
    info = { started: Date.now(), path: request.url.split('?')[0], waited: false }
    infos.set(request, info)
  }
  return info
}

/**
 * Path without query, as the stats and the echo report it.
 * @param {FastifyRequest} request
 */
export function pathOf(request) {
  return infoOf(request).path
}

/**
 * `/__*` routes: not delayed by `latencyMs`, not recorded in stats.
 * @param {FastifyRequest} request
 */
export function isTestRoute(request) {
  return pathOf(request).startsWith('/__')
}

/**
 * Wait `latencyMs` once per request, after its body was read and before it is decided. True when
 * the server closed meanwhile (the request is then abandoned: `close()` destroys its socket).
 * @param {State} state
 * @param {FastifyRequest} request
 * @param {FastifyReply} reply
 */
export async function waitLatency(state, request, reply) {
  const info = infoOf(request)
  if (!info.waited && !isTestRoute(request)) {
    info.waited = true
    if (state.settings.latencyMs > 0) await sleep(state, state.settings.latencyMs)
  }
  if (state.closed) {
    reply.hijack()
    return true
  }
  return false
}

/**
 * Every answer of an upload route is a JSON string sent as text/plain (route config `textPlain`).
 * @param {FastifyRequest} request
 */
function isTextPlain(request) {
  const config = /** @type {{ textPlain?: boolean } | undefined} */ (request.routeOptions.config)
  return Boolean(config && config.textPlain)
}

/**
 * @param {State} state
 * @param {FastifyRequest} request
 * @param {Reply} r
 */
function record(state, request, r) {
  if (isTestRoute(request)) return
  recordHit(state, {
    seq: Number(request.id.slice('req-'.length)),
    requestId: request.id,
    method: request.method,
    route: pathOf(request),
    status: r.action ? 0 : r.status,
    user: r.user === undefined ? null : r.user,
    generation: r.generation === undefined ? null : r.generation,
    expired: r.expired === true,
    reason: r.reason === undefined ? null : r.reason,
    at: now(state),
  })
}

/**
 * @param {State} state
 * @param {FastifyRequest} request
 * @param {Reply} r
 */
function logLine(state, request, r) {
  const ms = Date.now() - infoOf(request).started
  state.opts.log(`${request.method} ${request.url} → ${r.action ? r.action : r.status} ${ms}ms${r.reason ? ` (${r.reason})` : ''}`)
}

/**
 * Record the decided answer (hits are in decision order), hold it for `?delay`, then send it, drop
 * the connection, or leave it hanging until `close()`.
 * @param {State} state
 * @param {FastifyRequest} request
 * @param {FastifyReply} reply
 * @param {Reply} r
 */
export async function respond(state, request, reply, r) {
  record(state, request, r)
  if (r.delayMs) await sleep(state, r.delayMs)
  if (state.closed) return reply.hijack()
  logLine(state, request, r)
  if (r.action === 'drop') {
    reply.hijack()
    request.raw.socket.destroy()
    return reply
  }
  if (r.action === 'hang') {
    reply.hijack()
    const res = reply.raw
    state.hanging.add(res)
    res.on('close', () => state.hanging.delete(res))
    return reply
  }
  if (r.headers) reply.headers(r.headers)
  reply.code(r.status)
  if (r.bytes) return reply.type(r.contentType || 'application/octet-stream').send(r.bytes)
  if (r.json === undefined) return reply.send()
  return reply.type(isTextPlain(request) ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8').send(JSON.stringify(r.json))
}

/**
 * Answer 405 (+ `Allow`) to every method but `allow` on `url`. OPTIONS stays with CORS.
 * @param {State} state
 * @param {FastifyInstance} app
 * @param {string} url
 * @param {string[]} allow
 * @param {object} [config] route config (`textPlain`)
 */
export function notAllowed(state, app, url, allow, config = {}) {
  const methods = app.supportedMethods.filter((m) => m !== 'OPTIONS' && !allow.includes(m))
  app.route({
    method: methods,
    url,
    config,
    handler: (request, reply) =>
      respond(state, request, reply, {
        status: 405,
        headers: { allow: allow.join(', ') },
        json: { error: 'method_not_allowed', message: `${request.method} ${pathOf(request)} is not allowed; use ${allow.join(', ')}` },
      }),
  })
}

/**
 * The 413: sent at once, before the body was read, and recorded like any answer.
 * @param {State} state
 * @param {FastifyRequest} request
 * @param {FastifyReply} reply
 */
export function answerTooLarge(state, request, reply) {
  /** @type {Reply} */
  const r = {
    status: 413,
    json: { error: 'payload_too_large', message: `request body exceeds ${state.opts.maxBodyBytes} bytes` },
    reason: 'payload too large',
  }
  record(state, request, r)
  logLine(state, request, r)
  const type = isTextPlain(request) ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8'
  answerEarly(state, request.raw, reply, 413, type, JSON.stringify(r.json))
}

/**
 * Is `error` the body cap (Fastify's `bodyLimit`, or the upload's own count)?
 * @param {unknown} error
 */
export function isTooLarge(error) {
  return Boolean(error && typeof error === 'object' && /** @type {{ statusCode?: unknown }} */ (error).statusCode === 413)
}

/**
 * The answer to an error a route threw or Fastify raised before the handler (body parsing,
 * schema validation). Unexpected errors are logged and answered 500.
 * @param {State} state
 * @param {FastifyRequest} request
 * @param {unknown} error
 * @returns {Reply}
 */
export function errorReply(state, request, error) {
  if (error instanceof HttpError) return { status: error.statusCode, json: error.body, reason: error.message }
  const e = /** @type {Error & { statusCode?: number, code?: string, validation?: unknown }} */ (error)
  if (e && e.validation) return { status: 400, json: { error: 'bad_request', message: e.message }, reason: e.message }
  if (e && e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    const message = `malformed content type ${JSON.stringify(request.headers['content-type'] || '')}`
    return { status: 400, json: { error: 'bad_request', message }, reason: message }
  }
  state.opts.log(
    `tokenrelay reference server: internal error on ${request.method} ${pathOf(request)}: ${e instanceof Error ? e.stack : String(e)}`,
  )
  return { status: 500, json: { error: 'server_error', message: 'internal error (see server log)' }, reason: 'internal error' }
}

/**
 * The error handler of every route: the 413 goes out at once; anything else waits `latencyMs`
 * like a normal answer and is recorded. `decide` lets a route count or replace the answer.
 * @param {State} state
 * @param {(request: FastifyRequest, error: unknown) => Reply | Promise<Reply>} [decide]
 * @returns {(error: unknown, request: FastifyRequest, reply: FastifyReply) => Promise<unknown>}
 */
export function errorHandler(state, decide = (request, error) => errorReply(state, request, error)) {
  return async (error, request, reply) => {
    if (isTooLarge(error)) return answerTooLarge(state, request, reply)
    if (await waitLatency(state, request, reply)) return
    return respond(state, request, reply, await decide(request, error))
  }
}

/**
 * The 400 message of a failed schema, taken from the `description` of the failing property's
 * schema (Ajv runs with `verbose`); a missing field lists its accepted spellings.
 * @param {import('fastify').FastifySchemaValidationError[]} errors
 * @returns {Error}
 */
export function schemaErrorFormatter(errors) {
  const missing = errors
    .filter((e) => e.keyword === 'required')
    .map((e) => /** @type {{ missingProperty: string }} */ (e.params).missingProperty)
  const first = /** @type {import('fastify').FastifySchemaValidationError & { parentSchema?: { description?: string } }} */ (errors[0])
  if (first.keyword === 'required' || first.keyword === 'anyOf') return new Error(`missing field: ${missing.join(' or ')}`)
  const description = first.parentSchema && first.parentSchema.description
  return new Error(description || `${first.instancePath.slice(1) || 'body'} ${first.message}`)
}

/**
 * A non-empty string body field, with its 400 message.
 * @param {string} name
 */
export function nonEmptyString(name) {
  return { type: 'string', minLength: 1, description: `${name} must be a non-empty string` }
}

/**
 * A JSON-object body with one required string field, spelled any of `names` (first wins).
 * @param {string[]} names
 * @param {Record<string, object>} [extra] more constraints per field
 */
export function objectWithField(names, extra = {}) {
  /** @type {Record<string, object>} */
  const properties = {}
  for (const name of names) properties[name] = { ...nonEmptyString(name), ...extra[name] }
  return {
    type: 'object',
    description: 'JSON body must be an object',
    properties,
    ...(names.length === 1 ? { required: names } : { anyOf: names.map((name) => ({ required: [name] })) }),
  }
}

/** @param {FastifyRequest} request */
function mediaType(request) {
  return (request.headers['content-type'] || '').split(';')[0].trim().toLowerCase()
}

/**
 * @param {string} text
 * @returns {unknown}
 */
function parseJson(text) {
  try {
    return JSON.parse(text)
  } catch {
    throw badRequest('malformed JSON body')
  }
}

/**
 * JSON bodies: `application/json` and any `+json` type.
 * @param {FastifyInstance} scope
 * @param {(body: string) => unknown} parse
 */
function addJsonParser(scope, parse) {
  for (const type of ['application/json', /^application\/[^;]+\+json(;|$)/]) {
    scope.addContentTypeParser(type, { parseAs: 'string' }, (request, body, done) => {
      try {
        done(null, parse(String(body)))
      } catch (error) {
        done(/** @type {Error} */ (error), undefined)
      }
    })
  }
}
const FORM = 'application/x-www-form-urlencoded'

/**
 * Bodies of routes that do not read them: read (so `bodyLimit` still answers 413) and dropped.
 * @param {FastifyInstance} scope
 */
export function discardBodies(scope) {
  scope.removeAllContentTypeParsers()
  scope.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => done(null, undefined))
}

/**
 * `/auth/*` and `/__*` bodies: a JSON object, or a form (what Alipay `my.request` sends by
 * default). An empty body without a content type is `{}`; any other content type is a 400.
 * @param {FastifyInstance} scope
 */
export function objectBodies(scope) {
  scope.removeAllContentTypeParsers()
  addJsonParser(scope, parseJson)
  scope.addContentTypeParser(FORM, { parseAs: 'string' }, (request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(String(body))))
  })
  scope.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
    const type = mediaType(request)
    if (!type && body.length === 0) return done(null, {})
    done(
      badRequest(
        `unsupported content type ${type ? JSON.stringify(type) : '(none)'}; send application/json or application/x-www-form-urlencoded`,
      ),
      undefined,
    )
  })
  scope.addHook('preValidation', async (request) => {
    if (request.body === undefined) request.body = {}
  })
}

/**
 * Generic `/api/*` bodies, echoed back: JSON (any value), a form as an object, anything else as
 * text; an empty body is null.
 * @param {FastifyInstance} scope
 */
export function echoBodies(scope) {
  scope.removeAllContentTypeParsers()
  addJsonParser(scope, (body) => (body.length === 0 ? null : parseJson(body)))
  scope.addContentTypeParser(FORM, { parseAs: 'string' }, (request, body, done) => {
    done(null, body.length === 0 ? null : Object.fromEntries(new URLSearchParams(String(body))))
  })
  scope.addContentTypeParser('*', { parseAs: 'string' }, (request, body, done) => {
    done(null, body.length === 0 ? null : String(body))
  })
}
