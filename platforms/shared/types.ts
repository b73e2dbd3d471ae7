import type { Credentials, RefreshContext, TokenRelay, TokenRelayOptions } from '../../src/index.js'

export interface LoginPageOptions {
  /**
   * Where to send the user when the session is over (once, however many requests failed).
   * @example loginPage: '/pages/login/index'
   */
  loginPage?: string
  /** tabBar page paths, so the login page and the return trip use `switchTab` for them. @default read from the app config when the platform exposes it */
  tabBar?: string[]
}

export interface PlatformOptions extends TokenRelayOptions, LoginPageOptions {
  /**
   * Silent re-login: turns a platform login code (`wx.login`, `my.getAuthCode`…) into credentials.
   * Used as the `login` strategy when `login` is not given.
   * @example exchange: async (code, { request }) => (await request({ url: '/auth/login', method: 'POST', data: { code } })).data as Credentials
   */
  exchange?: (code: string, ctx: RefreshContext) => Promise<Credentials>
}

export interface InstalledRelay extends TokenRelay {
  /** Restores what install() replaced. */
  uninstall(): void
  /** After a successful login: go back to the page the user was on when the session ended. */
  returnAfterLogin(): void
}
