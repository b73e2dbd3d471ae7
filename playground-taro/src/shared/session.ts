import Taro from '@tarojs/taro'
import { decodeJwt, type Credentials } from 'tokenrelay'

let h5Codes = 0

/**
 * A platform login code: `wx.login` on WeChat, `my.getAuthCode` on Alipay (Taro maps `login` to it), `tt.login` on Douyin. H5
 * has no platform login, so the demo makes up a code the reference server accepts (single use, hence unique).
 */
export async function loginCode(): Promise<string> {
  if (process.env.TARO_ENV === 'h5') return `code-alice-h5${Date.now().toString(36)}${(h5Codes++).toString(36)}`
  // Douyin: `force: false`, or tt.login opens the host app's login popup for a user not logged in to it (this
  // login runs in the background); wx and Alipay ignore the option.
  const res = await Taro.login({ force: false } as Taro.login.Option)
  return res.code
}

/** The reference server's access tokens are JWTs whose `gen` claim counts refreshes (1 after login). */
export function generationOf(credentials: Credentials | null): string {
  if (!credentials) return '-'
  const claims = decodeJwt(credentials.accessToken) as { gen?: number } | undefined
  return claims && claims.gen != null ? String(claims.gen) : '?'
}

/** One line about the session, the same on every page: `session: logged in gen=2`. */
export function sessionLine(state: { loggedIn: boolean; refreshing: boolean; credentials: Credentials | null }): string {
  const base = state.loggedIn ? `session: logged in gen=${generationOf(state.credentials)}` : 'session: logged out'
  return state.refreshing ? `${base} (refreshing…)` : base
}

/** Back to the home page: the previous page when there is one, else a fresh start there. */
export function backHome(): void {
  if (Taro.getCurrentPages().length > 1) Taro.navigateBack()
  else Taro.reLaunch({ url: '/pages/home/index' })
}
