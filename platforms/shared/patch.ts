import type { TokenRelay } from '../../src/index.js'
import { claim, warner } from './install.js'
import type { InstalledRelay, PlatformOptions } from './types.js'

/**
 * Replaces `obj[name]`. Some base libraries report wx members as non-writable, so this defines the
 * property instead of assigning, and says whether the replacement took.
 */
export function replace(obj: object, name: string, value: unknown): boolean {
  try {
    Object.defineProperty(obj, name, { value, configurable: true, writable: true, enumerable: true })
  } catch {
    // Non-configurable: fall through to the check.
  }
  return (obj as Record<string, unknown>)[name] === value
}

const NETWORK = ['request', 'uploadFile', 'downloadFile'] as const

/** What a callback-style adapter builds before it patches anything (`createWxRelay`, `createMyRelay`). */
export interface Wrapped {
  relay: TokenRelay
  returnAfterLogin(): void
  originals: Record<(typeof NETWORK)[number], unknown>
  request: unknown
  uploadFile: unknown
  downloadFile: unknown
}

/**
 * Puts the wrapped `request`/`uploadFile`/`downloadFile` on the platform object (`wx`, `my`) so existing
 * code goes through the relay unchanged; `uninstall()` puts the originals back.
 */
export function patchNetwork(name: string, target: object, made: Wrapped, options: PlatformOptions): InstalledRelay {
  const warn = warner(options)
  for (const api of NETWORK) {
    if (!replace(target, api, made[api])) warn(`[tokenrelay] could not replace ${name}.${api}: use the non-patching create function and call its ${api}()`)
  }
  const installed: InstalledRelay = Object.assign(made.relay, {
    returnAfterLogin: made.returnAfterLogin,
    uninstall() {
      for (const api of NETWORK) replace(target, api, made.originals[api])
      release()
    },
  })
  const release = claim(`tokenrelay/${name}`, installed, warn)
  return installed
}
