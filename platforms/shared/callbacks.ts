import type { Report } from './report.js'

type Callback = (value: never) => void
type Name = 'success' | 'fail' | 'complete'

/** The callbacks of a platform call, as its caller passed them. */
export type Callbacks = { [name in Name]?: Callback }

function run(name: Name, fn: Callback | undefined, value: unknown, report: Report) {
  if (!fn) return
  try {
    fn(value as never)
  } catch (error) {
    report(`[tokenrelay] a ${name} callback threw:`, error)
  }
}

/**
 * Gives a caller its answer the platform's way: `success` or `fail`, then `complete`, always, last. An
 * error thrown by a callback is reported once and goes no further: it skips nothing and cannot become an
 * unhandled rejection.
 */
export function deliver(callbacks: Callbacks, ok: boolean, value: unknown, report: Report): void {
  run(ok ? 'success' : 'fail', callbacks[ok ? 'success' : 'fail'], value, report)
  run('complete', callbacks.complete, value, report)
}

/**
 * The same guarantee when the platform calls the callbacks itself, one at a time (uni-app answers
 * that tokenrelay does not take over): each one reports what it throws instead of throwing it.
 */
export function guarded(callbacks: Callbacks, report: Report): Callbacks {
  const out: Callbacks = {}
  for (const name of ['success', 'fail', 'complete'] as const) {
    const fn = callbacks[name]
    if (fn) out[name] = (value) => run(name, fn, value, report)
  }
  return out
}

/** A callback-style platform call (`wx.login`, `my.getAuthCode`…) as a promise. */
export const promisify = <T>(call: (o: { success(r: T): void; fail(e: unknown): void }) => unknown): Promise<T> =>
  new Promise<T>((resolve, reject) => void call({ success: resolve, fail: reject }))
