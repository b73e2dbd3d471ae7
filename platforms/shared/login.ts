import type { Credentials, RefreshContext } from '../../src/index.js'
import { SessionExpiredError } from '../../src/index.js'
import { describeError as describe } from './report.js'

/** What a platform says when it has no silent login: uni-h5's `uni.login`, Taro's stubs on some targets. */
const UNSUPPORTED = /not support/i

/**
 * A platform login code exchanged by the app's server: the engine's `login` strategy. A platform that
 * cannot log in silently ends the session (the login page, `SESSION_EXPIRED`) instead of calling
 * `exchange` without a code or retrying what will never work: when its login yields no code (Taro H5's
 * `Taro.login` succeeds without one) or fails "not supported". Other failures (network) stay transient.
 */
export function codeLogin(
  getCode: () => Promise<string | undefined>,
  exchange: (code: string, ctx: RefreshContext) => Promise<Credentials>,
) {
  return async (ctx: RefreshContext) => {
    let code: string | undefined
    try {
      code = await getCode()
    } catch (error) {
      if (UNSUPPORTED.test(describe(error))) throw new SessionExpiredError(`no silent login on this platform (${describe(error)})`, error)
      throw error
    }
    if (!code) throw new SessionExpiredError('the platform login gave no code: no silent login on this platform')
    return exchange(code, ctx)
  }
}
