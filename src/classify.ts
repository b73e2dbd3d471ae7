// One place decides what a failed refresh or login means, the way axios keeps one `settle`: the session is
// over (the user must log in), a retry may help (transient), or the app is misconfigured.
import { headerOf, parseBody, pick } from './detect.js'
import { SessionExpiredError, TokenRelayError, isTokenRelayError } from './errors.js'
import type { Clock } from './options.js'
import type { RefreshContext, RelayRequest, RelayResponse, Transport } from './types.js'
import { resolveURL } from './url.js'

export const transient = (message: string, cause?: unknown, retryAfterMs?: number): TokenRelayError =>
  new TokenRelayError('REFRESH_FAILED', message, { cause, transient: true, retryAfterMs })

/** A mistake in the app's options (a callback that throws, or returns the wrong thing): never retried. */
export const configError = (message: string, cause?: unknown): TokenRelayError =>
  new TokenRelayError('CONFIG_ERROR', '[tokenrelay] ' + message, { cause })

/** Calls one of the app's callbacks; what it throws becomes a `CONFIG_ERROR` naming the option. */
export function guard<A, B, T>(name: string, fn: (a: A, b: B) => T, a: A, b: B): T {
  try {
    return fn(a, b)
  } catch (error) {
    throw isTokenRelayError(error) ? error : configError(`${name} threw: ${(error as Error)?.message || error}`, error)
  }
}

/** `Retry-After` (delta seconds or an HTTP date) in ms. */
function retryAfter(response: RelayResponse, now: number): number | undefined {
  const value = headerOf(response, 'retry-after')
  if (value == null) return undefined
  const ms = /^\s*\d+\s*$/.test(value) ? +value * 1000 : Date.parse(value) - now
  return ms > 0 ? ms : undefined
}

/**
 * Why an answer to a refresh or login call failed, or null when it is a success. Refused (4xx but 408 and
 * 429, RFC 6749 §5.2; `invalid_grant` in any status; an expiry answer) ends the session; 408, 429, 5xx
 * and odd statuses are transient. `isExpired` is skipped when there is no request to give it.
 */
export function classifyAnswer(
  response: RelayResponse,
  what: string,
  now: number,
  isExpired?: (response: RelayResponse, request: RelayRequest) => boolean,
  request?: RelayRequest,
  cause: unknown = response,
): TokenRelayError | null {
  const status = response.statusCode
  const error = pick(parseBody(response.data), 'error')
  const message = `${what} answered ${status}${typeof error === 'string' ? ' ' + error : ''}`
  if (error === 'invalid_grant' || (request && isExpired && guard('isExpired', isExpired, response, request))) {
    return new SessionExpiredError(message, cause)
  }
  if (status >= 200 && status < 300) return null
  if (status >= 400 && status < 500 && status !== 408 && status !== 429 && error !== 'temporarily_unavailable') {
    return new SessionExpiredError(message, cause)
  }
  return transient(message, cause, retryAfter(response, now))
}

/** The answer inside an error thrown by the app's own HTTP client (axios, ky, got, luch-request, Taro, uni, my). */
function answerIn(error: unknown): RelayResponse | null {
  const e = error as Record<string, unknown> | null
  if (!e || typeof e !== 'object') return null
  const inner = (e.response && typeof e.response === 'object' ? e.response : e) as Record<string, unknown>
  const status = [e.statusCode, e.status, inner.statusCode, inner.status].find((s) => typeof s === 'number' && s > 0) as number | undefined
  if (status == null) return null
  return {
    statusCode: status,
    data: 'data' in e ? e.data : 'data' in inner ? inner.data : inner.body,
    header: (inner.headers || inner.header || e.headers) as RelayResponse['header'],
  }
}

/** Any error out of `refresh` or `login`, as one of ours. */
export function classifyError(error: unknown, now: number): TokenRelayError {
  if (isTokenRelayError(error)) return error
  const answer = answerIn(error)
  return (
    (answer && classifyAnswer(answer, 'refresh', now, undefined, undefined, error)) ||
    transient('refresh failed: ' + ((error as Error)?.message || error), error)
  )
}

/** `ctx.request` for refresh and login: sent as it is (`auth: false`, never relayed), its failures classified here. */
export const authRequest =
  (transport: () => Transport | undefined, baseURL: string | undefined, clock: Clock, isExpired: RelayIsExpired) =>
  async (request: RelayRequest): ReturnType<RefreshContext['request']> => {
    const send = transport()
    if (!send) throw new TokenRelayError('REFRESH_FAILED', 'no transport: pass `transport` to createTokenRelay')
    const req = { ...request, url: resolveURL(request.url, baseURL), header: { ...request.header }, auth: false }
    const response = await send(req).catch((cause) => {
      throw transient(`${req.url} failed`, cause)
    })
    const error = classifyAnswer(response, req.url, clock.now(), isExpired, req)
    if (error) throw error
    return response
  }

type RelayIsExpired = (response: RelayResponse, request: RelayRequest) => boolean
