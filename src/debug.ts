import type { Logger } from './options.js'
import type { TokenRelay } from './relay.js'
import type { RelayEventName, RelayEvents } from './types.js'

declare const console: Logger

const EVENTS: RelayEventName[] = [
  'change',
  'refresh:start',
  'refresh:success',
  'refresh:failure',
  'queued',
  'replay',
  'session-expired',
  'error',
]

/**
 * Prints a compact timeline of refreshes, queueing and replays (never a token). A separate function, not an
 * option, so apps that never debug do not ship it. Returns a function that stops the printing.
 * @example if (process.env.NODE_ENV !== 'production') debugTimeline(relay)
 */
export function debugTimeline(relay: TokenRelay, logger: Pick<Logger, 'log'> = console, now = () => Date.now()): () => void {
  const started = now()
  const offs = EVENTS.map((name) =>
    relay.on(name, (payload) => {
      const { request, error, reason, strategy } = payload as Partial<
        RelayEvents['queued'] & RelayEvents['refresh:start'] & RelayEvents['refresh:failure']
      >
      const what = request ? `${request.method || 'GET'} ${request.url}` : error ? error.code || error : strategy || ''
      logger.log(`[tokenrelay +${now() - started}ms] ${name} ${what}${reason ? ' (' + reason + ')' : ''}`)
    }),
  )
  return () => offs.forEach((off) => off())
}
