import type { RelayResponse } from '../../src/index.js'

/** HTTP answers the platform reported on its failure path, and what their caller got there. */
const onFail = new WeakMap<object, unknown>()

/**
 * Marks `response` as an answer the platform reported as a failure: Alipay's non-2xx (`error: 19`), a
 * Taro rejection that carries a status, uni's `request:fail http status error`. The relay handles it like
 * any answer (an expiry is refreshed and replayed); when it is final, the caller gets `failure` on its
 * failure path, as the platform would have delivered it.
 */
export function answeredOnFail<T extends object>(response: T, failure: unknown = response): T {
  onFail.set(response, failure)
  return response
}

/** Decides how the caller gets a final answer: `fail` with what the platform gave there, else `success`. */
export function settle(response: RelayResponse): { ok: boolean; value: unknown } {
  return onFail.has(response) ? { ok: false, value: onFail.get(response) } : { ok: true, value: response }
}
