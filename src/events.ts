import type { Logger } from './options.js'
import type { RelayEventName, RelayEvents } from './types.js'

type Listener<E extends RelayEventName> = (payload: RelayEvents[E]) => void

/** The relay's events: a listener that throws is reported through the logger and never stops the others. */
export function createEmitter(logger: Logger) {
  const listeners: { [E in RelayEventName]?: Listener<E>[] } = {}
  return {
    emit<E extends RelayEventName>(name: E, payload: RelayEvents[E]): void {
      for (const fn of (listeners[name] || []) as Listener<E>[]) {
        try {
          fn(payload)
        } catch (error) {
          logger.warn('[tokenrelay] listener failed', error)
        }
      }
    },
    /** Subscribes; returns the unsubscribe function. */
    on<E extends RelayEventName>(event: E, listener: Listener<E>): () => void {
      const list = (listeners[event] = listeners[event] || []) as Listener<E>[]
      list.push(listener)
      return () => void list.splice(list.indexOf(listener) >>> 0, 1)
    },
  }
}
