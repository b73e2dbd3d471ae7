import type { RequestKind, TokenRelay, TokenStorage } from '../../src/index.js'
import type { NetworkApi, PlatformTask, TaskTransport } from './call.js'
import { KIND_OF, callThrough } from './call.js'
import type { NavigationApi } from './login-page.js'
import type { LifecycleApi } from './lifecycle.js'
import type { InstallOrigin } from './registry.js'
import { installRelay } from './registry.js'
import { platformRelay } from './relay.js'
import { reporter } from './report.js'
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

/** A platform network function (`wx.request`, `my.uploadFile`…): options in, task out. */
export type NetworkFn = (options: Record<string, unknown>) => PlatformTask
type Wrapper = (options: { url: string; [key: string]: unknown }) => Promise<unknown> & PlatformTask

/** A callback-style platform object (`wx`, `my`, `tt`): the network calls and the navigation calls. */
export type CallbackPlatform = NavigationApi & Record<NetworkApi, NetworkFn>

/** What a callback-style adapter builds before it patches anything (`createWxRelay`, `createMyRelay`). */
export type Wrapped = { relay: TokenRelay; originals: Record<NetworkApi, NetworkFn>; close(): void } & Pick<
  InstalledRelay,
  'returnAfterLogin' | 'onReturnAfterLogin'
> &
  Record<NetworkApi, Wrapper>

const APIS = Object.keys(KIND_OF) as NetworkApi[]

/** Builds the relay and the wrapped request functions of a callback-style platform, patching nothing. */
export function wrapNetwork(
  options: PlatformOptions,
  target: CallbackPlatform,
  platform: {
    /** One attempt of `send`, reporting its task. An answer the platform reports on `fail` is marked (`answeredOnFail`). */
    transport(send: NetworkFn, kind: RequestKind): TaskTransport
    storage: TokenStorage
    getCode(): Promise<string | undefined>
    tabBar?(): string[]
    /** The caller's options as the relay reads them (`header`). */
    prepare?(options: { url: string; [key: string]: unknown }): { url: string; [key: string]: unknown }
  },
): Wrapped {
  const { transport, prepare = (o) => o, ...shared } = platform
  const report = reporter(options)
  const made = { originals: {} } as Wrapped
  const transports = {} as Record<NetworkApi, TaskTransport>
  for (const api of APIS) {
    const send = (made.originals[api] = target[api])
    transports[api] = transport(send.bind(target), KIND_OF[api])
    made[api] = (o) => callThrough(made.relay, api, prepare(o), transports[api], report)
  }
  Object.assign(
    made,
    platformRelay(options, {
      ...shared,
      // Refresh/login calls get the answer as it arrived, whichever path (the relay classifies its status).
      transport: (req) => transports.request(req, () => {}),
      // getCurrentPages is a global in mini programs, not a member of wx/my: the navigator falls back to it.
      nav: () => target,
      // onAppShow, getNetworkType, onNetworkStatusChange (and their off…) are members of wx, my and tt alike.
      lifecycle: target as LifecycleApi,
    }),
  )
  return made
}

/**
 * Installs a callback-style adapter: `create()` builds its relay (after an earlier install is gone, so
 * the originals it wraps are the platform's own), and the wrapped `request`/`uploadFile`/`downloadFile`
 * go on the platform object (`wx`, `my`, `tt`), so existing code goes through the relay unchanged;
 * `uninstall()` puts the originals back.
 */
export function installNetwork(
  name: 'wx' | 'my' | 'tt',
  target: object,
  options: PlatformOptions,
  origin: InstallOrigin,
  create: () => Wrapped,
): InstalledRelay {
  return installRelay(`tokenrelay/${name}`, options, origin, () => {
    const made = create()
    for (const api of APIS) {
      if (!replace(target, api, made[api]))
        reporter(options)(`[tokenrelay] could not replace ${name}.${api}: call ${api}() of the non-patching create function`)
    }
    const { relay, returnAfterLogin, onReturnAfterLogin } = made
    const teardown = () => (made.close(), APIS.forEach((api) => replace(target, api, made.originals[api])))
    return { relay, returnAfterLogin, onReturnAfterLogin, teardown }
  })
}
