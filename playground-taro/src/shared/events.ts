import { useSyncExternalStore } from 'react'
import { installedRelay } from 'tokenrelay/taro'

/**
 * What the relay did, as lines for the home page ("a live list of what happened"). Subscribed once, when
 * this module loads: tokenrelay/taro/plugin has installed the relay before any app code runs.
 */
const MAX = 12
let lines: string[] = []
const listeners = new Set<() => void>()
let started = Date.now()

function push(text: string): void {
  const ms = String(Date.now() - started).padStart(5, ' ')
  lines = [...lines, `+${ms} ms  ${text}`].slice(-MAX)
  listeners.forEach((fn) => fn())
}

const relay = installedRelay()
if (relay) {
  let waited = 0
  let replays = 0
  const what = (strategy: string) => (strategy === 'login' ? 'silent login' : 'refresh')
  relay.on('refresh:start', ({ strategy, reason }) => {
    // src/tokenrelay.config.ts refuses a silent login right after the server refused the refresh token.
    if (strategy === 'login' && (reason === 'expired' || reason === 'ahead')) push('refresh token refused: no silent login, by app policy')
    else push(`${what(strategy)} started (${reason})`)
  })
  relay.on('queued', () => void waited++)
  relay.on('refresh:success', ({ strategy }) => {
    push(`${what(strategy)} done${waited ? `: ${waited} waiting calls go out` : ''}`)
    waited = 0
  })
  relay.on('refresh:failure', ({ error }) => push(`refresh failed: ${error.code}`))
  relay.on('session-expired', () => push('session ended: to the login page'))
  let quiet: ReturnType<typeof setTimeout> | undefined
  relay.on('replay', () => {
    // One line per burst, said once no replay came for 100 ms: a late 401 (a slow upload's) replays a little
    // after the others.
    replays++
    clearTimeout(quiet)
    quiet = setTimeout(() => {
      push(`${replays} expired calls replayed with the new token`)
      replays = 0
    }, 100)
  })
} else {
  push('tokenrelay is not installed: check tokenrelay/taro/plugin in config/index.ts')
}

/** One line of the app's own, in the same timeline. */
export function note(text: string): void {
  push(text)
}

/** Starts a new timeline (the home page's Run all). */
export function markRun(run: number): void {
  started = Date.now()
  lines = []
  push(`run ${run}: 10 requests + 1 upload + 1 download`)
}

export function useRelayEvents(): string[] {
  return useSyncExternalStore(
    (fn) => {
      listeners.add(fn)
      return () => void listeners.delete(fn)
    },
    () => lines,
    () => lines,
  )
}
