// tokenrelay/auth: the app's own login and logout calls, recognised on their way through the relay
// (`authRequests`): a login's answer becomes the credentials, a logout ends the session. Neither waits for a
// refresh nor is replayed: a login carries no token to refresh, and a logout ends the session whatever its
// answer. A separate entry, opted into with a function the app imports: apps that do not use it do not ship it
// (the relay only calls the hook it is given, `withAuthRequests`).
import { configError, guard } from './classify.js'
import { abortError } from './defaults.js'
import { parseBody } from './detect.js'
import type { Logger, TokenRelayOptions } from './options.js'
import type { TokenRelay } from './relay.js'
import type { Emit, Session } from './session.js'
import { readCredentials } from './session.js'
import type { RelayRequest, RelayResponse } from './types.js'
import { resolveURL } from './url.js'

/**
 * Names a request: a string equal to its URL's path (after resolving it against `baseURL`; query and fragment
 * ignored), a RegExp tested against that path, or a test of the request (its `url` resolved).
 */
export type RequestMatcher = string | RegExp | ((request: RelayRequest) => boolean)

/** The app's own login and logout calls, for `authRequests()`. */
export interface AuthRequests {
  /**
   * The login call (a password or SMS form). It goes out without the token and is never held for a refresh nor
   * replayed. A 2xx answer's credentials are adopted like `setCredentials()` (validated the same way, stored,
   * superseding a running refresh) before the caller gets the answer. An answer without valid credentials
   * changes nothing: a warning and an `error` event (`CONFIG_ERROR`) name the keys received, and the caller
   * still gets the answer as it came.
   * @example login: '/auth/login'
   */
  login?: RequestMatcher
  /**
   * The logout call. It goes out with the token (the server needs it to revoke) without waiting for a refresh,
   * and is never replayed; once it is sent, whatever its answer (a network failure too), the session is
   * cleared like `clear()`: storage emptied, waiting requests rejected with `LOGGED_OUT`.
   * @example logout: /^\/auth\/(logout|signout)$/
   */
  logout?: RequestMatcher
  /**
   * Picks the credentials out of a login's 2xx answer (its body already parsed when it came as a JSON string).
   * Return null or undefined for an answer that is no login (`{ code: 1001, msg }`): nothing adopted, nothing reported.
   * @default (response) => response.data
   * @example credentials: (res) => ((res.data as any).code === 0 ? (res.data as any).data : null)
   */
  credentials?: (response: RelayResponse) => unknown
}

/** What the relay lends `authRequests()`: how a request goes out, the session, and where to report. */
export interface RelayParts {
  outgoing(request: RelayRequest, url: string, withToken: boolean): RelayRequest
  session: Session
  emit: Emit
  logger: Logger
  baseURL?: string
}

/** Made by `authRequests()`; given as the `authRequests` option. */
export type AuthRequestsHook = (relay: TokenRelay, parts: RelayParts) => TokenRelay

/** What a string or RegExp matcher is compared with: the resolved URL without origin, query and fragment. */
const pathOf = (url: string): string => url.replace(/^[a-z][a-z\d+.-]*:\/\/[^/?#]*|[?#].*$/gi, '') || '/'

const matches = (m: RequestMatcher | undefined, request: RelayRequest, path: string): boolean =>
  typeof m === 'string'
    ? m === path
    : m instanceof RegExp
      ? ((m.lastIndex = 0), m.test(path))
      : !!m && !!guard('authRequests', m, request, 0)

/** @internal The relay as the options make it: wrapped by the `authRequests` hook when one is given. */
export const withAuthRequests = (
  { authRequests, baseURL }: TokenRelayOptions,
  outgoing: RelayParts['outgoing'],
  session: Session,
  emit: Emit,
  logger: Logger,
  relay: TokenRelay,
): TokenRelay => (authRequests ? authRequests(relay, { outgoing, session, emit, logger, baseURL }) : relay)

/**
 * Recognises the app's login and logout requests (see `AuthRequests`); pass the result as the `authRequests`
 * option. Only requests to a URL allowed to receive the token are recognised.
 * @example install({ baseURL, refresh, authRequests: authRequests({ login: '/auth/login', logout: '/auth/logout' }) })
 */
export function authRequests(spec: AuthRequests): AuthRequestsHook {
  const pick = spec.credentials || ((response: RelayResponse) => response.data)
  return (relay, { outgoing, session, emit, logger, baseURL }) => {
    const { send, receive, stamp, wouldWait } = relay

    /** The role and resolved URL of a request to an allowed URL: credentials never come from another origin. */
    function roleOf(request: RelayRequest): [role: 'login' | 'logout', url: string] | undefined {
      const url = resolveURL(request.url, baseURL)
      const path = pathOf(url)
      const req = { ...request, url }
      if (relay.isAllowed(url)) {
        if (matches(spec.logout, req, path)) return ['logout', url]
        if (matches(spec.login, req, path)) return ['login', url]
      }
    }

    /**
     * A login's 2xx answer: its credentials adopted (as `setCredentials` does) before the caller gets it. The
     * caller gets the answer whatever it holds: a login page shows the server's message when it is no login.
     */
    async function adopt(response: RelayResponse, url: string): Promise<RelayResponse> {
      const status = response.statusCode
      if (status > 199 && status < 300) {
        const picked = guard('authRequests.credentials', pick, { ...response, data: parseBody(response.data) }, 0)
        const read = picked == null && spec.credentials ? null : readCredentials(picked)
        if (typeof read === 'string') {
          const error = configError(
            `login ${url} answered ${status} with ${read}: credentials unchanged (see authRequests.credentials)`,
            response,
          )
          logger.warn(error.message)
          emit('error', { error })
        } else if (read) await relay.setCredentials(read)
      }
      return response
    }

    /** Sent with the token (the server needs it to revoke) without waiting for a refresh; once out, the session ends. */
    async function logout(request: RelayRequest, go: () => Promise<RelayResponse>): Promise<RelayResponse> {
      const { signal } = request
      await session.ready
      if (signal?.aborted) throw abortError(signal)
      const answer = go()
      const cleared = relay.clear()
      try {
        return await answer
      } catch (error) {
        throw signal?.aborted ? abortError(signal, error) : error
      } finally {
        await cleared
      }
    }

    relay.send = (request, transport) => {
      const [role, url] = roleOf(request) || []
      if (role === 'logout') return logout(request, () => transport(outgoing(request, url!, request.auth !== false)))
      if (!role) return send(request, transport)
      return send({ ...request, auth: false }, transport).then((response) => adopt(response, url!))
    }
    relay.receive = (request, transport, answer) => {
      const [role, url] = roleOf(request) || []
      return !role
        ? receive(request, transport, answer)
        : role === 'login'
          ? adopt(answer.response, url!)
          : Promise.resolve(answer.response)
    }
    relay.stamp = (request) => {
      const [role, url] = roleOf(request) || []
      if (role === 'login') return { ...stamp({ ...request, auth: false }), adopt: true }
      if (!role) return stamp(request)
      // The platform sends it right after: the session ends now, as once send() has handed it over.
      const stamped = { request: outgoing(request, url!, request.auth !== false), version: session.version, session: session.id }
      void relay.clear()
      return stamped
    }
    // A logout waits only for storage (to know the token); a login waits for nothing.
    relay.wouldWait = (request) => {
      const [role] = roleOf(request) || []
      return role ? role === 'logout' && !session.loaded : wouldWait(request)
    }
    return relay
  }
}
