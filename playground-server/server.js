// @ts-check
/**
 * tokenrelay reference auth server: a real back end on 127.0.0.1 for demos,
 * tests and playgrounds. Login with mini program codes, refresh-token rotation
 * with reuse detection (RFC 9700), `400 invalid_grant` (RFC 6749 §5.2),
 * `401` + `WWW-Authenticate` (RFC 6750) or body-code expiry answers, and fault
 * knobs for the refresh endpoint. Fastify 5 around one state object; see README.md in this folder.
 */
import Fastify from 'fastify'
import cors from '@fastify/cors'
import { resolveOptions } from './options.js'
import { createState } from './state.js'
import { control, controlRoutes, reset, stats } from './controls.js'
import { appRoutes } from './routes.js'
import { clientErrorHandler } from './drain.js'
import { discardBodies, errorHandler, notFound, pathOf, respond, schemaErrorFormatter, startRequest, waitLatency } from './http.js'

export { EXPIRY_MODES, FAULT_MODES } from './options.js'
export { downloadContent } from './routes.js'

/** @typedef {import('./options.js').ServerOptions} ServerOptions */
/** @typedef {import('./options.js').ExpiryMode} ExpiryMode */
/** @typedef {import('./options.js').FaultMode} FaultMode */
/** @typedef {import('./controls.js').ControlPatch} ControlPatch */
/** @typedef {import('./state.js').Settings} Settings */
/** @typedef {import('./state.js').Hit} Hit */
/** @typedef {import('./state.js').Stats} Stats */
/** @typedef {import('./tokens.js').TokenPair} TokenPair */

/**
 * @typedef {object} RunningServer
 * @property {string} url Base URL without trailing slash, e.g. `http://127.0.0.1:53211`.
 * @property {number} port
 * @property {() => Promise<void>} close Stops listening and destroys every open, idle or hanging socket.
 * @property {() => Stats} stats A snapshot (deep copy).
 * @property {(patch: ControlPatch) => Settings} control Apply a patch (throws TypeError on invalid input); returns the settings.
 * @property {() => void} reset Forget users, codes, families, stats and controls; new signing key.
 */

const CORS_ALLOW_HEADERS = ['Authorization', 'Content-Type', 'X-Requested-With']
// Content-Disposition and X-Content-SHA256: H5 downloads (uni-h5 reads the file name from the former).
const CORS_EXPOSE_HEADERS = 'WWW-Authenticate, X-Request-Id, Content-Disposition, X-Content-SHA256'
const CORS_METHODS = 'GET, POST, PUT, DELETE, OPTIONS'

/**
 * CORS of one request: an `Origin` is echoed with credentials; a preflight without one gets `*`;
 * a preflight may ask for any header on top of ours.
 * @param {import('fastify').FastifyRequest} request
 * @returns {import('@fastify/cors').FastifyCorsOptions}
 */
function corsFor(request) {
  const origin = request.headers.origin
  if (!origin && request.method !== 'OPTIONS') return { origin: false }
  const allowHeaders = [...CORS_ALLOW_HEADERS]
  for (const h of String(request.headers['access-control-request-headers'] || '').split(',')) {
    const name = h.trim()
    if (name && !allowHeaders.some((a) => a.toLowerCase() === name.toLowerCase())) allowHeaders.push(name)
  }
  return {
    origin: origin || '*',
    credentials: Boolean(origin),
    ...(origin ? { exposedHeaders: CORS_EXPOSE_HEADERS } : {}),
    methods: CORS_METHODS,
    allowedHeaders: allowHeaders,
    maxAge: 600,
    strictPreflight: false,
  }
}

/**
 * Start the reference server.
 * @param {ServerOptions} [options]
 * @returns {Promise<RunningServer>}
 */
export async function startServer(options = {}) {
  const opts = resolveOptions(options)
  const state = createState(opts)

  const app = Fastify({
    logger: false,
    bodyLimit: opts.maxBodyBytes,
    genReqId: () => `req-${++state.seq}`,
    // 405 answers list HEAD as not allowed, as they always did.
    exposeHeadRoutes: false,
    forceCloseConnections: true,
    clientErrorHandler: clientErrorHandler(state),
    schemaErrorFormatter,
    // A string field must be a string: no coercion of `{code: 5}`; `verbose` gives each error its
    // schema, whose `description` is the 400 message.
    ajv: { customOptions: { coerceTypes: false, verbose: true } },
    // A path the router cannot decode (malformed percent-encoding): a 400 like any other.
    frameworkErrors: (error, request, reply) => {
      const r = /** @type {import('fastify').FastifyReply} */ (/** @type {unknown} */ (reply))
      startRequest(request, r)
      const message = 'malformed request target'
      respond(state, request, r, { status: 400, json: { error: 'bad_request', message }, reason: message }).catch(() => r.hijack())
    },
  })

  app.addHook('onRequest', async (request, reply) => startRequest(request, reply))
  await app.register(cors, { delegator: (request, callback) => callback(null, corsFor(request)) })
  app.addHook('preValidation', async (request, reply) => {
    await waitLatency(state, request, reply)
  })
  discardBodies(app)
  app.setErrorHandler(errorHandler(state))
  app.setNotFoundHandler(async (request, reply) => {
    if (await waitLatency(state, request, reply)) return
    const error = notFound(pathOf(request))
    return respond(state, request, reply, { status: 404, json: error.body, reason: error.message })
  })
  await app.register(controlRoutes(state))
  await app.register(appRoutes(state))

  /** @type {Set<import('node:net').Socket>} */
  const sockets = new Set()
  app.server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })

  await app.listen({ port: opts.port, host: opts.host })
  const address = app.server.address()
  if (!address || typeof address === 'string') throw new Error('tokenrelay reference server: unexpected listen address')
  const port = address.port
  const hostForUrl = opts.host.includes(':') ? `[${opts.host}]` : opts.host
  const url = `http://${hostForUrl}:${port}`

  /** @type {Promise<void> | null} */
  let closing = null
  const close = () => {
    if (!closing) {
      state.closed = true
      for (const timer of state.timers) clearTimeout(timer)
      state.timers.clear()
      for (const res of state.hanging) res.destroy()
      state.hanging.clear()
      closing = app.close()
      for (const socket of sockets) socket.destroy()
    }
    return closing
  }

  return {
    url,
    port,
    close,
    stats: () => stats(state),
    control: (patch) => control(state, patch),
    reset: () => reset(state),
  }
}
