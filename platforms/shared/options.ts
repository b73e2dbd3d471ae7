// What the build plugins check about the options they are given (build time, Node; no platform, no runtime).
import type { PlatformOptions } from './types.js'

/** Every install() option, so a build plugin can name the ones it does not know (`loginpage`, `baseUrl`). */
export const INSTALL_OPTIONS = [
  'refresh',
  'login',
  'exchange',
  'expired',
  'isExpired',
  'attach',
  'baseURL',
  'origins',
  'storage',
  'storageKey',
  'storageTimeoutMs',
  'refreshAheadMs',
  'refreshTimeoutMs',
  'offlineWaitMs',
  'network',
  'maxReplays',
  'retry',
  'circuit',
  'decodeToken',
  'transport',
  'onSessionExpired',
  'crossTab',
  'clock',
  'logger',
  'authRequests',
  'loginPage',
  'tabBar',
] as const satisfies readonly (keyof PlatformOptions)[]

/** The install() options that are plain data, the only ones a build config can pass on (Taro's plugin `options`). */
export type PlainInstallOptions = Pick<
  PlatformOptions,
  | 'expired'
  | 'baseURL'
  | 'origins'
  | 'storageKey'
  | 'storageTimeoutMs'
  | 'refreshAheadMs'
  | 'refreshTimeoutMs'
  | 'offlineWaitMs'
  | 'maxReplays'
  | 'retry'
  | 'circuit'
  | 'loginPage'
  | 'tabBar'
>

/** The known key `key` was probably meant to be: same letters in another case, or one or two typos away. */
function closest(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase()
  const same = known.find((k) => k.toLowerCase() === lower)
  if (same) return same
  let best: string | undefined
  let bestDistance = 3
  for (const k of known) {
    const d = distance(lower, k.toLowerCase())
    if (d < bestDistance) [best, bestDistance] = [k, d]
  }
  return best
}

/** Levenshtein distance (keys are short). */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const next = [i]
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    row = next
  }
  return row[b.length]
}

/**
 * The keys of `given` that are not in `known`, each said with the known one it probably meant:
 * `'loginpage' (did you mean 'loginPage'?)`. Empty when every key is known.
 */
export function unknownKeys(given: object | undefined, known: readonly string[]): string[] {
  return Object.keys(given || {})
    .filter((key) => known.indexOf(key) < 0)
    .map((key) => {
      const meant = closest(key, known)
      return `'${key}'${meant ? ` (did you mean '${meant}'?)` : ''}`
    })
}

/** `export default …`, `export { x as default }`, `export { default } from …`, or CommonJS `module.exports`. */
export function hasDefaultExport(source: string): boolean {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:\\])\/\/.*$/gm, '$1')
  return /(^|[;\s])export\s+default\b/.test(code) || /\bexport\s*\{[^}]*\bdefault\b[^}]*\}/.test(code) || /\bmodule\.exports\s*=/.test(code)
}
