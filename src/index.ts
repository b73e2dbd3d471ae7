export { createTokenRelay } from './relay.js'
export type { TokenRelay, Stamped } from './relay.js'
export { TokenRelayError, SessionExpiredError, isTokenRelayError } from './errors.js'
export type { TokenRelayErrorCode } from './errors.js'
export { decodeJwt } from './jwt.js'
export { debugTimeline } from './debug.js'
export { expiryDetector, parseBody } from './detect.js'
export type { ExpiredRule } from './detect.js'
export { originOf, resolveURL } from './url.js'
export type { TokenRelayOptions, Clock, Logger, NetworkStatus } from './options.js'
export type {
  AbortSignalLike,
  Credentials,
  RefreshContext,
  RelayEventName,
  RelayEvents,
  RelayRequest,
  RelayResponse,
  RequestKind,
  TokenStorage,
  Transport,
} from './types.js'
