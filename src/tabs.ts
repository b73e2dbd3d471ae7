// Several tabs of one origin (H5), one session: one refresh between them under a shared lock, the
// credentials another tab stored adopted instead of refreshing again, a logout or session end in one tab
// ending it in all. The platform gives the lock and the messages (`CrossTab`); nothing here is a global.
import { SessionExpiredError, TokenRelayError } from './errors.js'
import type { Flights } from './flight.js'
import type { Clock, CrossTab, SharedTabs } from './options.js'
import type { Session } from './session.js'
import { readCredentials } from './session.js'
import type { TokenStorage } from './types.js'

export interface TabDeps {
  session: Session
  /** The flights, once made (they are made with what this returns). */
  flights: () => Flights
  storage: TokenStorage
  storageKey: string
  storageTimeoutMs: number
  clock: Clock
  /** The longest a tab waits for another's refresh: every attempt of it, timed out, with its backoff. */
  waitMs: number
}

/**
 * The `crossTab` option from a platform's lock and messages: tabs of one origin sharing one session. (A
 * factory, not a flag: apps that never share tabs, every mini program, do not ship this code.)
 * @example createTokenRelay({ ..., crossTab: shareTabs({ lock, post, listen }) })
 */
export function shareTabs(crossTab: CrossTab): SharedTabs {
  return { post: (message) => crossTab.post(message), join: (deps: TabDeps) => joinTabs(crossTab, deps) }
}

/** Listens to the other tabs and returns the flights' `exclusive`: their work under the tabs' one lock. */
function joinTabs(crossTab: CrossTab, { session, flights, storage, storageKey, storageTimeoutMs, clock, waitMs }: TabDeps) {
  /**
   * Adopts credentials someone else stored (another tab, the app) when their access token is not `carried`,
   * and says whether there were such. Not saved again: they are stored. Bounded like every storage read.
   */
  async function adoptStored(carried: string | undefined): Promise<boolean> {
    try {
      const raw = await new Promise((resolve, reject) => {
        const timer = clock.setTimeout(() => resolve(undefined), storageTimeoutMs)
        Promise.resolve(storage.get(storageKey))
          .then(resolve, reject)
          .then(() => clock.clearTimeout(timer))
      })
      const value = readCredentials(typeof raw === 'string' ? JSON.parse(raw) : raw)
      if (typeof value === 'string' || value.accessToken === carried) return false
      const creds = session.creds
      if (value.accessToken !== (creds && creds.accessToken)) session.accept(value, false)
      return true
    } catch {
      return false // unreadable or corrupt: nothing to adopt
    }
  }

  crossTab.listen((message) => {
    if (message.type === 'stored') {
      // A flight of this tab (waiting for the lock) is settled by them: its requests go out with them.
      void adoptStored(session.creds ? session.creds.accessToken : undefined).then((adopted) => adopted && flights().interrupt())
    } else if (session.creds) {
      const error =
        message.code === 'LOGGED_OUT'
          ? new TokenRelayError('LOGGED_OUT', 'logged out in another tab')
          : new SessionExpiredError('the session ended in another tab')
      flights().interrupt(error)
      if (message.code === 'LOGGED_OUT') void session.forget(error, true)
      else session.end(error, true)
    }
  })

  const name = `tokenrelay:${storageKey}`
  return async (carried: string | undefined, work: () => Promise<boolean>): Promise<boolean> => {
    let granted = false
    try {
      return await crossTab.lock(name, waitMs, async () => {
        granted = true
        // Another tab refreshed (or logged in) while this one waited: its credentials are the answer.
        return !(await adoptStored(carried)) && work()
      })
    } catch (error) {
      if (granted) throw error
      throw new TokenRelayError('REFRESH_TIMEOUT', `another tab held the refresh for more than ${waitMs} ms`, {
        transient: true,
        cause: error,
      })
    }
  }
}
