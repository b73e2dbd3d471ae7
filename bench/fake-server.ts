// One in-process auth server behind one transport, shared by every library in the benchmark. Each answer is
// computed from the token the request carried, at send time; only its delivery is delayed. Hits are counted
// here, on the server side, so a library cannot hide a refresh from the count.
import type { RelayRequest, RelayResponse } from '../src/index.js'

export const API = 'https://api.test'

export interface ServerOptions {
  /** Delay of every answer, in ms. 0: the transport returns an already resolved promise. */
  latencyMs: number
  /** Per-path delay overriding `latencyMs` (the late-401 scenario slows one request down). */
  latencyFor?: (path: string) => number | undefined
  /** The refresh endpoint answers 400 `invalid_grant` (a revoked session). */
  refreshFails?: boolean
}

export interface Tokens {
  accessToken: string
  refreshToken: string
  /** Seconds, as a login answer carries it; only tokenrelay reads it (to time a refresh ahead). */
  expiresIn?: number
}

function gate() {
  let open!: () => void
  const promise = new Promise<void>((resolve) => (open = resolve))
  return { promise, open }
}

function pathOf(url: string): string {
  const m = /^[a-z]+:\/\/[^/]+(\/[^?#]*)?/i.exec(url)
  return m ? m[1] || '/' : url.replace(/[?#].*$/, '')
}

function authorization(header: RelayRequest['header']): string | undefined {
  for (const key in header) if (key.toLowerCase() === 'authorization') return header[key]
  return undefined
}

const delay = <T>(ms: number, value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms))

export type FakeServer = ReturnType<typeof fakeServer>

export function fakeServer(options: ServerOptions) {
  let issued = 0
  const valid = new Set<string>()
  let currentRefreshToken = 'rt-0'
  let hold: ReturnType<typeof gate> | null = null
  const refreshStarted = gate()
  const stats = { refreshCalls: 0, apiCalls: 0, expiredAnswers: 0 }

  function issue(): Tokens {
    issued++
    const accessToken = `at-${issued}`
    valid.add(accessToken)
    currentRefreshToken = `rt-${issued}`
    return { accessToken, refreshToken: currentRefreshToken, expiresIn: 3600 }
  }

  function handle(request: RelayRequest, path: string): RelayResponse {
    if (path === '/auth/refresh') {
      stats.refreshCalls++
      refreshStarted.open()
      const body = (typeof request.data === 'string' ? JSON.parse(request.data) : request.data) as { refreshToken?: string } | undefined
      // Refresh tokens are one-time (rotation): presenting an older one is refused like a revoked session.
      if (options.refreshFails || !body || body.refreshToken !== currentRefreshToken) {
        return { statusCode: 400, header: { 'content-type': 'application/json' }, data: { error: 'invalid_grant' } }
      }
      return { statusCode: 200, header: { 'content-type': 'application/json' }, data: issue() }
    }
    stats.apiCalls++
    const auth = authorization(request.header)
    const token = auth && auth.startsWith('Bearer ') ? auth.slice(7) : undefined
    if (!token || !valid.has(token)) {
      stats.expiredAnswers++
      return {
        statusCode: 401,
        header: { 'content-type': 'application/json', 'www-authenticate': 'Bearer error="invalid_token"' },
        data: { error: 'invalid_token' },
      }
    }
    return { statusCode: 200, header: { 'content-type': 'application/json' }, data: { ok: true, path } }
  }

  /** The one transport every library sends through: `(req) => Promise<{statusCode, header, data}>`. */
  function transport(request: RelayRequest): Promise<RelayResponse> {
    const path = pathOf(request.url)
    const response = handle(request, path)
    const ms = (options.latencyFor && options.latencyFor(path)) ?? options.latencyMs
    const held = path === '/auth/refresh' && hold ? hold.promise : null
    if (held) return held.then(() => delay(ms, response))
    return ms > 0 ? delay(ms, response) : Promise.resolve(response)
  }

  return {
    transport,
    stats,
    /** Credentials whose access token the server no longer accepts (the refresh token still works). */
    // The client still believes it has an hour left: only the server's 401 tells it otherwise.
    expiredTokens: (): Tokens => ({ accessToken: 'at-0', refreshToken: currentRefreshToken, expiresIn: 3600 }),
    /** A valid pair, for runs with no expiry. */
    validTokens: issue,
    /** Settles when the first refresh call reaches the server. */
    refreshStarted: refreshStarted.promise,
    /** Holds refresh answers until `release()`: lets a scenario queue requests behind a refresh. */
    holdRefresh() {
      hold = gate()
      return () => hold!.open()
    },
  }
}
