import type { Credentials, RefreshContext, SharedTabs, TokenRelay, TokenRelayOptions } from '../../src/index.js'

export interface LoginPageOptions {
  /**
   * Where to send the user when the session is over (once, however many requests failed).
   * @example loginPage: '/pages/login/index'
   */
  loginPage?: string
  /** tabBar page paths, so the login page and the return trip use `switchTab` for them. @default read from the app config when the platform exposes it */
  tabBar?: string[]
}

export interface PlatformOptions extends Omit<TokenRelayOptions, 'crossTab'>, LoginPageOptions {
  /**
   * H5: tabs of the same origin share one session (one refresh between them, the new credentials adopted by
   * all, a logout or session end in one ends it in all; only the tab the user looks at opens the login page).
   * `false` turns it off; `shareTabs(yourCrossTab)` replaces the browser's. No effect in mini programs.
   * @default true on H5 where the browser has localStorage and Web Locks or BroadcastChannel
   */
  crossTab?: boolean | SharedTabs
  /**
   * Silent re-login: turns a platform login code (`wx.login`, `my.getAuthCode`…) into credentials.
   * Used as the `login` strategy when `login` is not given.
   * @example exchange: async (code, { request }) => (await request({ url: '/auth/login', method: 'POST', data: { code } })).data as Credentials
   */
  exchange?: (code: string, ctx: RefreshContext) => Promise<Credentials>
}

/** Where `returnAfterLogin()` took the user, and how. */
export interface ReturnAfterLogin {
  /** The page the session ended on, with its query: `/pages/detail/index?id=7`. */
  url: string
  /**
   * `navigateBack`: it was right below the login page and is shown again as it was (refresh its data);
   * `redirectTo` / `switchTab`: it is opened (a redirected page loads anew, a tabBar page is shown as it was).
   */
  via: 'navigateBack' | 'redirectTo' | 'switchTab'
}

export interface InstalledRelay extends TokenRelay {
  /** Restores what install() replaced. */
  uninstall(): void
  /**
   * After a successful login (`setCredentials()` resolved): back to the page the user was on when the
   * session ended. When that page is right below the login page it goes back (`navigateBack`), so the stack
   * holds no second copy of it; otherwise it opens it (`redirectTo`, `switchTab` for tabBar pages). Does
   * nothing when no session ended since the last call.
   * @example await relay.setCredentials(await myLogin(form)); relay.returnAfterLogin()
   */
  returnAfterLogin(): void
  /**
   * Calls `listener` each time `returnAfterLogin()` takes the user back: the page that was kept reloads
   * what it showed (its requests failed when the session ended). Returns the function that removes it.
   * @example const off = relay.onReturnAfterLogin(({ via }) => via === 'navigateBack' && this.load())
   */
  onReturnAfterLogin(listener: (to: ReturnAfterLogin) => void): () => void
}
