// @ts-check
/**
 * Options of `startServer()`: defaults in one place, one `resolveOptions()` that checks every value.
 * The same checks validate `control()` patches, so a knob accepts the same values either way.
 */

/** @typedef {'401' | '99997' | '1002' | '0002'} ExpiryMode */
/** @typedef {'500' | '503' | 'hang' | 'drop' | 'succeed-then-drop'} FaultMode */

/**
 * Options of `startServer()`. All optional.
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
 * @typedef {object} ResolvedOptions
 * @property {number} port
 * @property {string} host
 * @property {number} accessTtl
 * @property {number} refreshTtl
 * @property {number} codeTtl
 * @property {number} graceSeconds
 * @property {ExpiryMode} expiryMode
 * @property {string} bodyCodeField
 * @property {number} maxBodyBytes
 * @property {number} latencyMs
 * @property {(line: string) => void} log
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

/**
 * @param {unknown} value
 * @param {string} name
 * @param {{ min?: number, max?: number, integer?: boolean }} [limits]
 * @returns {number}
 */
export function checkNumber(value, name, limits = {}) {
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
export function checkExpiryMode(value) {
  if (typeof value !== 'string' || !EXPIRY_MODES.includes(/** @type {ExpiryMode} */ (value))) {
    throw new TypeError(`expiryMode must be one of ${EXPIRY_MODES.map((m) => `'${m}'`).join(', ')}`)
  }
  return /** @type {ExpiryMode} */ (value)
}

/**
 * @param {unknown} value
 * @returns {string}
 */
export function checkField(value) {
  if (typeof value !== 'string' || value.length === 0 || value.length > 64) {
    throw new TypeError('bodyCodeField must be a non-empty string (≤ 64 chars)')
  }
  return value
}

/**
 * @param {ServerOptions} options
 * @returns {ResolvedOptions}
 */
export function resolveOptions(options) {
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
