import type { RelayResponse, RequestKind, TokenRelay, TokenStorage } from '../../src/index.js'
import type { Finish, PlatformTask, TaskTransport } from './call.js'
import { callThrough } from './call.js'
import { claim, platformRelay, warner } from './install.js'
import type { NavigationApi } from './login-page.js'
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

export type Call = (options: Record<string, unknown>) => PlatformTask
type Api = 'request' | 'uploadFile' | 'downloadFile'
type Wrapper = (options: { url: string; [key: string]: unknown }) => Promise<unknown> & PlatformTask

/** A callback-style platform object (`wx`, `my`): the network calls and the navigation calls. */
export type CallbackPlatform = NavigationApi & Record<Api, Call>

/** What a callback-style adapter builds before it patches anything (`createWxRelay`, `createMyRelay`). */
export type Wrapped = { relay: TokenRelay; returnAfterLogin(): void; originals: Record<Api, Call> } & Record<Api, Wrapper>

const KINDS: Record<Api, RequestKind> = { request: 'request', uploadFile: 'upload', downloadFile: 'download' }

/** Builds the relay and the wrapped request functions of a callback-style platform, patching nothing. */
export function wrapNetwork(
  options: PlatformOptions,
  target: CallbackPlatform,
  platform: {
    /** One attempt of `call`, reporting its task. */
    transport(call: Call, kind: RequestKind): TaskTransport
    storage: TokenStorage
    getCode(): Promise<string>
    tabBar?(): string[]
    finish?: Finish
    /** The caller's options as the relay reads them (`header`). */
    prepare?(options: { url: string; [key: string]: unknown }): { url: string; [key: string]: unknown }
  },
): Wrapped {
  const { transport, finish, prepare = (o) => o, ...shared } = platform
  const made = { originals: {} } as Wrapped
  const transports = {} as Record<Api, TaskTransport>
  for (const api of Object.keys(KINDS) as Api[]) {
    const call = (made.originals[api] = target[api])
    transports[api] = transport(call.bind(target), KINDS[api])
    made[api] = (o) => callThrough(made.relay, KINDS[api], api, prepare(o), transports[api], finish)
  }
  Object.assign(
    made,
    platformRelay(options, {
      ...shared,
      // Refresh/login calls get the plain response (the relay classifies its status).
      transport: (req) => transports.request(req, () => {}).then((r) => (finish ? finish(r).value : r) as RelayResponse),
      // getCurrentPages is a global in mini programs, not a member of wx/my: the navigator falls back to it.
      nav: () => target,
    }),
  )
  return made
}

/**
 * Puts the wrapped `request`/`uploadFile`/`downloadFile` on the platform object (`wx`, `my`) so existing
 * code goes through the relay unchanged; `uninstall()` puts the originals back.
 */
export function patchNetwork(name: string, target: object, made: Wrapped, options: PlatformOptions): InstalledRelay {
  const warn = warner(options)
  const apis = Object.keys(KINDS) as Api[]
  for (const api of apis) {
    if (!replace(target, api, made[api])) warn(`[tokenrelay] could not replace ${name}.${api}: call ${api}() of the non-patching create function`)
  }
  const installed: InstalledRelay = Object.assign(made.relay, {
    returnAfterLogin: made.returnAfterLogin,
    uninstall() {
      for (const api of apis) replace(target, api, made.originals[api])
      release()
    },
  })
  const release = claim(`tokenrelay/${name}`, installed, warn)
  return installed
}
