/**
 * Base URL of the playground API. Build time: `TOKENRELAY_API` (vite.config.ts). Run time:
 * `globalThis.__TOKENRELAY_API__` wins when set, so the e2e harness can aim one build at a server
 * on an ephemeral port (mini programs: set on the simulated global; H5: an init script).
 */
export function apiBase(): string {
  const g: any = typeof globalThis !== 'undefined' ? globalThis : undefined
  const override = g && g.__TOKENRELAY_API__
  const base = typeof override === 'string' && override ? override : TOKENRELAY_API
  return base.replace(/\/+$/, '')
}
