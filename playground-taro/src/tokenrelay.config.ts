// tokenrelay's options for this app. tokenrelay/taro/plugin (config/index.ts) imports this module's
// default export and calls install() with it before any page code runs; `options` there adds
// `loginPage`. Functions are fine here.
import { SessionExpiredError, type Credentials } from 'tokenrelay'
import type { PlatformOptions } from 'tokenrelay/taro'
import { apiBase, crossTab } from './shared/api'
import { loginCode } from './shared/session'

const config: PlatformOptions = {
  // Relative URLs resolve against it, and only its origin ever receives the token.
  baseURL: apiBase(),
  // H5: the app's tabs share one session (one refresh between them, one logout for all). On by default.
  crossTab: crossTab(),
  // The reference server answers an expired token with HTTP 401, or (settings page) HTTP 200 + code 99997.
  expired: { status: [401], codes: [99997], codeField: 'code' },
  // One refresh however many requests expired at once; the rotated pair is stored before any replay.
  refresh: async ({ refreshToken, request }) =>
    (await request({ url: '/auth/refresh', method: 'POST', data: { refreshToken } })).data as Credentials,
  // Silent login (wx.login / my.getAuthCode code → POST /auth/login): when the app has no session yet, and
  // when the login page's button asks. A session whose refresh token the server refused (revoked, reused,
  // expired) is not replaced behind the user's back: it ends, and the user lands on the login page once.
  login: async ({ reason, request }) => {
    if (reason === 'expired' || reason === 'ahead') throw new SessionExpiredError('the server refused the refresh token')
    const code = await loginCode()
    return (await request({ url: '/auth/login', method: 'POST', data: { code } })).data as Credentials
  },
}

export default config
