// The app's life as the platform reports it, in the engine's terms: app show calls the relay's wake(), and the
// network status (`getNetworkType` / `onNetworkStatusChange` in mini programs, `navigator.onLine` and the
// `online` / `offline` events on H5) becomes the relay's `network`.
import type { NetworkStatus } from '../../src/index.js'

/** What `getNetworkType` and `onNetworkStatusChange` report: `isConnected` (changes), `networkAvailable` (Alipay), `networkType`. */
interface NetworkInfo {
  isConnected?: boolean
  networkAvailable?: boolean
  networkType?: string
}
type On<T> = (listener: (result: T) => void) => void

/** The part of `wx`, `my`, `tt`, `Taro` and `uni` used here; any of it may be missing. */
export interface LifecycleApi {
  onAppShow?: On<unknown>
  offAppShow?: On<unknown>
  getNetworkType?(o: { success(result: NetworkInfo): void }): void
  onNetworkStatusChange?: On<NetworkInfo>
  offNetworkStatusChange?: On<NetworkInfo>
}

declare const navigator: { onLine?: boolean }
declare const addEventListener: (type: string, listener: () => void) => void
declare const removeEventListener: (type: string, listener: () => void) => void

/** No network: WeChat, Douyin and uni say `networkType: 'none'`, Alipay `'NOTREACHABLE'` or `networkAvailable: false`. */
const isOnline = (r: NetworkInfo) => r.isConnected ?? r.networkAvailable ?? !/^(none|notreachable)$/i.test(r.networkType || '')

/** H5: `navigator.onLine` and the window's `online` / `offline` events, in the mini program calls' shape. */
export function browserNetwork(): LifecycleApi {
  if (typeof addEventListener === 'undefined') return {}
  let changed = () => {}
  const events = ['online', 'offline']
  return {
    getNetworkType: (o) => o.success({ isConnected: navigator.onLine }),
    onNetworkStatusChange(listener) {
      changed = () => listener({ isConnected: navigator.onLine })
      events.forEach((e) => addEventListener(e, changed))
    },
    offNetworkStatusChange: () => events.forEach((e) => removeEventListener(e, changed)),
  }
}

/**
 * The relay's `network` from the platform, and `start(wake)`, which listens to app show and network changes until
 * the function it returns is called. Online is unknown (the relay goes ahead) until the platform has said.
 */
export function lifecycle(api: LifecycleApi) {
  let online: boolean | undefined
  let listeners: ((online: boolean) => void)[] = []
  // A listener some platforms wrap (uni on Alipay) is not removed by `off…`: `active` silences it after stop.
  let active = true
  const changed = (r: NetworkInfo) => {
    online = isOnline(r)
    if (active) listeners.forEach((fn) => fn(online!))
  }
  const show = () => active && wake()
  let wake = () => {}
  const network: NetworkStatus = {
    online: () => online,
    onChange: (fn) => (listeners.push(fn), () => void (listeners = listeners.filter((f) => f !== fn))),
  }
  function start(onShow: () => void): () => void {
    wake = onShow
    api.onAppShow?.(show)
    api.onNetworkStatusChange?.(changed)
    // Its answer is older news than a change reported meanwhile.
    api.getNetworkType?.({ success: (r) => void (online ??= isOnline(r)) })
    return () => {
      active = false
      api.offAppShow?.(show)
      api.offNetworkStatusChange?.(changed)
    }
  }
  return { network, start }
}
