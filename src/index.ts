export { createTokenRelay } from './relay.js'
export type { TokenRelay } from './relay.js'
export type { AuthRequests, AuthRequestsHook, RelayParts, RequestMatcher } from './auth.js'
export { TokenRelayError, SessionExpiredError, isTokenRelayError } from './errors.js'
export type { TokenRelayErrorCode } from './errors.js'
export { decodeJwt } from './jwt.js'
export { debugTimeline } from './debug.js'
export { expiryDetector, parseBody } from './detect.js'
export type { ExpiredRule } from './detect.js'
export { originOf, resolveURL } from './url.js'
export type { TokenRelayOptions, Clock, CrossTab, Logger, NetworkStatus, SharedTabs, TabMessage } from './options.js'
export { shareTabs } from './tabs.js'
export type {
  AbortSignalLike,
  Credentials,
  RefreshContext,
  RelayEventName,
  RelayEvents,
  RelayRequest,
  RelayResponse,
  RequestKind,
  Stamped,
  TokenStorage,
  Transport,
} from './types.js'
