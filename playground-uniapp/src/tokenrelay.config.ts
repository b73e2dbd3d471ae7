// The options of `app.use(TokenRelayPlugin, options)`. vite.config.ts points tokenRelay({ config }) here, and the
// plugin adds that app.use to src/main.ts at build time. Plain app code: functions are fine.
import type { Credentials, RefreshContext } from 'tokenrelay'
import type { PlatformOptions } from 'tokenrelay/uniapp'
import { apiBase, crossTab } from './shared/api'

const config: PlatformOptions = {
  // Only this origin gets the token. Relative URLs in uni.request(...) resolve against it.
  baseURL: apiBase(),
  // H5: the app's tabs share one session (one refresh between them, one logout for all). On by default.
  crossTab: crossTab(),
  // Trade the refresh token for a new pair (the reference server rotates it).
  refresh: async ({ refreshToken, request }: RefreshContext) =>
    (await request({ url: '/auth/refresh', method: 'POST', data: { refreshToken } })).data as Credentials,
  // Silent login: the code from uni.login (wx.login / my.getAuthCode) exchanged by the server. Used on the
  // first request without a session and when the refresh token is refused. H5 has no uni.login: there the
  // session ends on the login page.
  exchange: async (code: string, { request }: RefreshContext) =>
    (await request({ url: '/auth/login', method: 'POST', data: { code } })).data as Credentials,
  // The settings page can make the server answer expiry as HTTP 401 or as a 200 with body code 99997.
  expired: { status: [401], codes: [99997], codeField: 'code' },
  // Where the user goes, once, when the session cannot be saved.
  loginPage: '/pages/login/index',
  // A playground expires and revokes tokens on demand: allow more than the default 5 refreshes a minute
  // before the circuit breaker ends the session.
  circuit: { maxRefreshes: 20, windowMs: 60_000 },
}

export default config
