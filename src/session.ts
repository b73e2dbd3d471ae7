// The credentials and everything that changes with them: which version a request carried, which session
// (account) it belongs to, when they expire, and their copy in storage. Storage is never trusted to answer:
// every read and write is bounded, and writes go out one at a time, newest last.
import { configError } from './classify.js'
import { TokenRelayError } from './errors.js'
import type { Clock, SharedTabs, TabMessage, TokenRelayOptions } from './options.js'
import type { Credentials, RelayEventName, RelayEvents, TokenStorage } from './types.js'

/** Visible ASCII only: no space, no control character (a CR/LF would inject a header). */
const TOKEN = /^[\x21-\x7e]+$/

const field = (value: Record<string, unknown>, camel: string, snake: string) => (value[camel] != null ? value[camel] : value[snake])

/**
 * Credentials as `refresh`, `login`, `setCredentials` or storage gave them, with RFC 6749's snake_case
 * names accepted (`access_token`, `refresh_token`, `expires_in`); a string naming the problem otherwise.
 */
export function readCredentials(value: unknown): Credentials | string {
  if (!value || typeof value !== 'object') return `no credentials (received ${value === null ? 'null' : typeof value})`
  const v = value as Record<string, unknown>
  const accessToken = field(v, 'accessToken', 'access_token')
  const refreshToken = field(v, 'refreshToken', 'refresh_token')
  const expiresIn = +(field(v, 'expiresIn', 'expires_in') as number)
  if (accessToken == null) return `no accessToken (received keys: ${Object.keys(v).join(', ') || 'none'})`
  if (typeof accessToken !== 'string' || !TOKEN.test(accessToken))
    return 'an accessToken that is not a non-empty string of visible ASCII characters'
  if (refreshToken != null && (typeof refreshToken !== 'string' || !TOKEN.test(refreshToken))) {
    return 'a refreshToken that is not a non-empty string of visible ASCII characters'
  }
  const out: Credentials = { accessToken }
  if (refreshToken) out.refreshToken = refreshToken as string
  if (expiresIn === expiresIn && field(v, 'expiresIn', 'expires_in') != null) out.expiresIn = expiresIn
  if (typeof v.expiresAt === 'number') out.expiresAt = v.expiresAt
  return out
}

export type Emit = <E extends RelayEventName>(name: E, payload: RelayEvents[E]) => void

export interface SessionDeps {
  storage: TokenStorage
  storageKey: string
  storageTimeoutMs: number
  refreshAheadMs: number
  decodeToken?: TokenRelayOptions['decodeToken']
  onSessionExpired?: TokenRelayOptions['onSessionExpired']
  clock: Clock
  emit: Emit
  warn(message: string, error?: unknown): void
  /** The other tabs: told after each write of credentials, and when the session ends here. */
  crossTab?: SharedTabs
}

export type Session = ReturnType<typeof createSession>

export function createSession({
  storage,
  storageKey,
  storageTimeoutMs,
  refreshAheadMs,
  decodeToken,
  onSessionExpired,
  clock,
  emit,
  warn,
  crossTab,
}: SessionDeps) {
  let creds: Credentials | null = null
  let subject: string | undefined
  let aheadMs = 0
  let writing = Promise.resolve()
  let busy = false
  let next: { value: Credentials | null } | null = null
  let latest: Credentials | null = null

  const state = {
    get creds() {
      return creds
    },
    /** Bumps on every change: an "expired" answer to an older version is replayed, not refreshed. */
    version: 0,
    /**
     * The account: bumps when credentials are forgotten, or when new ones decode to another `sub`. A request
     * of one session is never sent with another's token.
     */
    id: 1,
    /** Set when the session ended (or the user logged out) until new credentials arrive. */
    ended: null as TokenRelayError | null,
    ready: Promise.resolve(),
    /** False while an async storage read is still pending (within its bound). */
    loaded: true,
    accept,
    forget,
    end,
    save,
    due,
  }

  const report = (error: unknown) => emit('error', { error })
  const tell = (message: TabMessage) => {
    try {
      if (crossTab) crossTab.post(message)
    } catch (error) {
      report(error)
    }
  }

  /** Waits for `promise` at most `storageTimeoutMs`, then goes on (it runs on): warns when given `call`, calls `late`. */
  function bounded(promise: Promise<unknown>, call?: string, late?: () => void): Promise<void> {
    return new Promise((resolve) => {
      const timer = clock.setTimeout(() => {
        if (call) warn(`[tokenrelay] storage.${call} did not settle within ${storageTimeoutMs} ms: going on with the credentials in memory`)
        late?.()
        resolve()
      }, storageTimeoutMs)
      void promise.then(() => (clock.clearTimeout(timer), resolve()))
    })
  }

  /**
   * Writes `value` (null: removes). One write at a time; a value waiting behind a slow write is replaced by a newer one.
   * A write still pending after `storageTimeoutMs` no longer holds the ones behind it; if it lands after a newer one
   * went out, the newest value is written again, so an older pair never has the last word.
   */
  function save(value: Credentials | null): Promise<void> {
    next = { value }
    latest = value
    if (!busy) {
      busy = true
      writing = drain()
    }
    return bounded(writing) // drain() warns about the write that hangs
  }

  async function drain(): Promise<void> {
    while (next) {
      const { value } = next
      next = null
      let result: unknown
      try {
        result = value ? storage.set(storageKey, JSON.stringify(value)) : storage.remove(storageKey)
      } catch (error) {
        result = Promise.reject(error)
      }
      const done = Promise.resolve(result).then(
        () => void (value && tell({ type: 'stored' })),
        (error) => void report(error), // quota or a broken storage: the credentials stay usable in memory
      )
      const late = () => void done.then(() => void (latest !== value && save(latest)))
      await (typeof (result as Promise<unknown>)?.then === 'function' ? bounded(done, value ? 'set' : 'remove', late) : done)
    }
    busy = false // may run before drain() returns (a storage that throws at once): hence the flag
  }

  function decode(token: string) {
    if (!decodeToken) return undefined
    try {
      return decodeToken(token) || undefined
    } catch (error) {
      // Reported (logger and error event), not thrown: the token is then treated as opaque.
      const failed = configError('decodeToken threw: the token is treated as opaque', error)
      warn(failed.message, failed)
      return undefined
    }
  }

  /**
   * Adopts credentials. `fresh` ones were just issued: their lifetime is measured on arrival, so a wrong device
   * clock cannot cause a refresh storm; stored ones keep the absolute expiry they were saved with.
   */
  function accept(value: Credentials, fresh: boolean, keepRefreshToken?: string): Credentials {
    const now = clock.now()
    const claims = decode(value.accessToken)
    let expiresAt =
      typeof value.expiresAt === 'number' ? value.expiresAt : typeof value.expiresIn === 'number' ? now + value.expiresIn * 1000 : undefined
    if (expiresAt == null && claims && typeof claims.exp === 'number') {
      expiresAt = fresh && typeof claims.iat === 'number' ? now + (claims.exp - claims.iat) * 1000 : claims.exp * 1000
    }
    aheadMs = expiresAt == null ? 0 : Math.max(0, Math.min(refreshAheadMs, (expiresAt - now) / 2))
    const sub = claims && typeof claims.sub === 'string' ? claims.sub : undefined
    if (creds && sub && subject && sub !== subject) state.id++
    subject = sub
    // Servers that do not rotate answer without a refresh token: keep the one we have.
    const refreshToken = value.refreshToken || keepRefreshToken
    const adopted: Credentials = (creds = { accessToken: value.accessToken })
    if (refreshToken) adopted.refreshToken = refreshToken
    if (expiresAt != null) adopted.expiresAt = expiresAt
    state.version++
    state.ended = null
    emit('change', { credentials: { ...adopted } })
    return adopted
  }

  /**
   * The session ended (`SESSION_EXPIRED`) or the user logged out: forget the credentials everywhere (every
   * tab, unless another tab said so: `remote`).
   */
  function forget(error: TokenRelayError, remote?: boolean): Promise<void> {
    if (!remote) tell({ type: 'ended', code: error.code === 'SESSION_EXPIRED' ? 'SESSION_EXPIRED' : 'LOGGED_OUT' })
    creds = null
    subject = undefined
    state.version++
    state.id++
    state.ended = error
    emit('change', { credentials: null })
    return save(null)
  }

  function end(error: TokenRelayError, remote?: boolean): void {
    void forget(error, remote)
    emit('session-expired', { error })
    try {
      onSessionExpired && onSessionExpired(error)
    } catch (e) {
      report(e)
    }
  }

  /** `'expired'` when the known expiry has passed, `'ahead'` when it is within the refresh-ahead window. */
  function due(): 'expired' | 'ahead' | null {
    const at = creds && creds.expiresAt
    if (at == null) return null
    const now = clock.now()
    return now >= at ? 'expired' : now >= at - aheadMs ? 'ahead' : null
  }

  function load(raw: unknown): void {
    if (state.version) return // setCredentials() (or a logout) came first: the newer state wins
    try {
      const value = readCredentials(typeof raw === 'string' ? JSON.parse(raw) : raw)
      if (typeof value !== 'string') accept(value, false)
    } catch {
      // Corrupt value: logged out.
    }
  }

  try {
    const raw = storage.get(storageKey)
    if (raw && typeof (raw as Promise<unknown>).then === 'function') {
      // A value that arrives after the bound is still adopted if nothing newer came meanwhile.
      state.loaded = false
      state.ready = bounded((raw as Promise<unknown>).then(load, report), 'get').then(() => void (state.loaded = true))
    } else load(raw)
  } catch (error) {
    report(error)
  }

  return state
}
