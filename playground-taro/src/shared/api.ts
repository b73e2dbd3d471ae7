/**
 * Base URL of the playground API. Build time: `TOKENRELAY_API` (config/index.ts). Run time:
 * `globalThis.__TOKENRELAY_API__` wins when set, so the e2e harness can aim one build at a server
 * on an ephemeral port (mini programs: set on the simulated global; H5: an init script).
 */
export function apiBase(): string {
  const g: any = typeof globalThis !== 'undefined' ? globalThis : undefined
  const override = g && g.__TOKENRELAY_API__
  const base = typeof override === 'string' && override ? override : TOKENRELAY_API
  return base.replace(/\/+$/, '')
}

/**
 * Whether the tabs of this H5 app share one session (tokenrelay's `crossTab`, on by default). Run time:
 * `globalThis.__TOKENRELAY_CROSS_TAB__ === false` turns it off, so the e2e suite can show what the sharing
 * prevents with the same build (several tabs refreshing one token family: the server sees reuse).
 */
export function crossTab(): boolean {
  const g: any = typeof globalThis !== 'undefined' ? globalThis : undefined
  return !(g && g.__TOKENRELAY_CROSS_TAB__ === false)
}
