import { describe, expect, it, vi } from 'vitest'
import type { RefreshContext } from '../../src/index.js'
import { isTokenRelayError } from '../../src/index.js'
import { codeLogin } from './login.js'

const ctx = {} as RefreshContext
const credentials = { accessToken: 'at' }

describe('codeLogin', () => {
  it('exchanges the code the platform gave', async () => {
    const exchange = vi.fn(async () => credentials)
    await expect(codeLogin(async () => 'c-1', exchange)(ctx)).resolves.toBe(credentials)
    expect(exchange).toHaveBeenCalledWith('c-1', ctx)
  })

  it.each([undefined, ''])('a login that yields no code (%j) ends the session and never calls exchange', async (code) => {
    const exchange = vi.fn(async () => credentials)
    const error = await codeLogin(async () => code, exchange)(ctx).catch((e) => e)
    expect(isTokenRelayError(error, 'SESSION_EXPIRED')).toBe(true)
    expect(error.transient).toBe(false)
    expect(error.message).toContain('gave no code')
    expect(exchange).not.toHaveBeenCalled()
  })

  it.each([
    { errMsg: "login:fail method 'uni.login' not supported" },
    { error: 2, errorMessage: 'getAuthCode is not supported here' },
    new Error('Taro.login is not supported on this platform'),
  ])('a "not supported" login failure ends the session, the platform error as cause: %j', async (failure) => {
    const exchange = vi.fn(async () => credentials)
    const error = await codeLogin(() => Promise.reject(failure), exchange)(ctx).catch((e) => e)
    expect(isTokenRelayError(error, 'SESSION_EXPIRED')).toBe(true)
    expect(error.cause).toBe(failure)
    expect(error.message).toMatch(/^no silent login on this platform \(.*not supported/)
    expect(exchange).not.toHaveBeenCalled()
  })

  it('any other login failure (network) is passed on as it is, for the engine to retry', async () => {
    const failure = { errMsg: 'login:fail network error' }
    await expect(
      codeLogin(
        () => Promise.reject(failure),
        async () => credentials,
      )(ctx),
    ).rejects.toBe(failure)
  })
})
