// An in-process stand-in for an auth server, for the engine's unit tests: every answer is computed from
// the token the request carried, and every hit is counted. Adapter tests use the real HTTP server instead.
import { createTokenRelay } from '../../src/index.js'
import type { Credentials, RefreshContext, RelayRequest, RelayResponse, TokenRelayOptions, Transport } from '../../src/index.js'

export const API = 'https://api.test'

export interface Hit {
  url: string
  token: string | undefined
  status: number
}

type RefreshFault = 'ok' | '400' | '401' | '403' | 'invalid_grant' | '503' | 'network' | 'hang' | 'garbage'

function gate() {
  let open!: () => void
  const promise = new Promise<void>((resolve) => (open = resolve))
  return { promise, open }
}

export function fakeBackend(options: { expiresIn?: number; mode?: '401' | 'body' } = {}) {
  let n = 0
  const valid = new Set<string>()
  let currentRefresh = ''
  const holds = new Map<string, ReturnType<typeof gate>>()
  const state = {
    hits: [] as Hit[],
    refreshCalls: 0,
    loginCalls: 0,
    logoutCalls: 0,
    /** Faults for the next refresh/login calls, consumed in order; 'ok' after they run out. */
    refreshFaults: [] as RefreshFault[],
    loginFaults: [] as RefreshFault[],
    /** Answer "expired" even to a valid token (a broken server). */
    alwaysExpired: false,
    mode: options.mode || '401',
  }

  function issue(): Credentials {
    n++
    const accessToken = `at-${n}`
    valid.add(accessToken)
    currentRefresh = `rt-${n}`
    return { accessToken, refreshToken: currentRefresh, expiresIn: options.expiresIn ?? 3600 }
  }

  function fault(kind: RefreshFault): RelayResponse | 'network' | 'hang' | null {
    switch (kind) {
      case '400':
      case 'invalid_grant':
        return { statusCode: 400, data: { error: 'invalid_grant' } }
      case '401':
      case '403':
        return { statusCode: Number(kind), data: { error: 'unauthorized' } }
      case '503':
        return { statusCode: 503, data: { error: 'temporarily_unavailable' } }
      case 'garbage':
        return { statusCode: 200, data: { hello: 'no token here' } }
      case 'network':
      case 'hang':
        return kind
      default:
        return null
    }
  }

  const transport: Transport = async (req: RelayRequest) => {
    const path = req.url.replace(/^[a-z]+:\/\/[^/]+/, '').split('?')[0]
    const hold = holds.get(path)
    await Promise.resolve()
    if (hold) await hold.promise
    const auth = req.header && req.header.Authorization
    const token = auth ? auth.replace(/^Bearer /, '') : undefined
    if (path === '/auth/refresh' || path === '/auth/login') {
      const isLogin = path === '/auth/login'
      isLogin ? state.loginCalls++ : state.refreshCalls++
      const f = fault((isLogin ? state.loginFaults : state.refreshFaults).shift() || 'ok')
      if (f === 'network') throw new Error('request:fail')
      if (f === 'hang') return new Promise<RelayResponse>(() => {})
      const body = req.data as { refreshToken?: string; code?: string }
      const response: RelayResponse =
        f ||
        (isLogin || body.refreshToken === currentRefresh
          ? { statusCode: 200, data: issue() }
          : { statusCode: 400, data: { error: 'invalid_grant' } })
      state.hits.push({ url: path, token, status: response.statusCode })
      return response
    }
    if (path === '/auth/logout') {
      // Revokes what the presented token belongs to: it and the refresh token stop working.
      state.logoutCalls++
      const known = !!token && valid.has(token)
      if (known) {
        valid.delete(token!)
        currentRefresh = ''
      }
      state.hits.push({ url: path, token, status: known ? 200 : 401 })
      return known ? { statusCode: 200, data: { ok: true } } : { statusCode: 401, data: { error: 'invalid_token' } }
    }
    const ok = !!token && valid.has(token) && !state.alwaysExpired
    const status = ok || state.mode === 'body' ? 200 : 401
    state.hits.push({ url: path, token, status })
    if (ok) return { statusCode: 200, header: {}, data: { code: 0, token } }
    return state.mode === 'body'
      ? { statusCode: 200, header: {}, data: { code: 99997, message: 'TOKEN EXPIRED' } }
      : { statusCode: 401, header: { 'WWW-Authenticate': 'Bearer error="invalid_token"' }, data: { error: 'invalid_token' } }
  }

  return {
    state,
    transport,
    /** Credentials as a login would hand them out. */
    login: () => issue(),
    /** Every access token issued so far stops working (the refresh token still works). */
    expireAll: () => valid.clear(),
    currentToken: () => `at-${n}`,
    /** Holds answers on `path` until the returned function is called. */
    hold(path: string) {
      const g = gate()
      holds.set(path, g)
      return () => {
        holds.delete(path)
        g.open()
      }
    },
    refresh: async ({ refreshToken, request }: RefreshContext) =>
      (await request({ url: `${API}/auth/refresh`, method: 'POST', data: { refreshToken } })).data as Credentials,
    silentLogin: async ({ request }: RefreshContext) =>
      (await request({ url: `${API}/auth/login`, method: 'POST', data: { code: 'code-1' } })).data as Credentials,
    hitsWith: (token: string) => state.hits.filter((h) => h.url.startsWith('/api') && h.token === token).length,
  }
}

/** Settles every promise and reports how each ended, without throwing. */
export async function settleAll<T>(promises: Promise<T>[]) {
  const results = await Promise.allSettled(promises)
  return {
    fulfilled: results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<T>).value),
    rejected: results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason),
  }
}

export function memoryStore() {
  const data = new Map<string, string>()
  const log: string[] = []
  return {
    data,
    log,
    get: (k: string) => data.get(k),
    set: (k: string, v: string) => {
      log.push(`set ${v}`)
      data.set(k, v)
    },
    remove: (k: string) => {
      log.push('remove')
      data.delete(k)
    },
  }
}

/** A GET to the fake API. */
export const get = (path: string, extra: Partial<RelayRequest> = {}): RelayRequest => ({ url: `${API}${path}`, method: 'GET', ...extra })

/** A logger that prints nothing. */
export const quiet = { log() {}, warn() {} }

/** A relay on a fresh fake backend: its refresh, its transport, fast retries; `send` goes through that transport. */
export function relayOnBackend(options: TokenRelayOptions = {}, backendOptions: Parameters<typeof fakeBackend>[0] = {}) {
  const backend = fakeBackend(backendOptions)
  const relay = createTokenRelay({
    baseURL: API,
    refresh: backend.refresh,
    transport: backend.transport,
    retry: { attempts: 2, backoffMs: 1 },
    ...options,
  })
  return { backend, relay, send: (req: RelayRequest) => relay.send(req, backend.transport) }
}
