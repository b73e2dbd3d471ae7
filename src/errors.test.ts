// The errors room: what each error carries, and the brand that works across realms and bundled copies.
import { describe, expect, it } from 'vitest'
import { SessionExpiredError, TokenRelayError, isTokenRelayError } from './index.js'

describe('TokenRelayError', () => {
  it('carries its code, message, name and transient flag; cause and retryAfterMs only when given', () => {
    const e = new TokenRelayError('ABORTED', 'request aborted')
    expect(e).toMatchObject({ code: 'ABORTED', message: 'request aborted', name: 'TokenRelayError', transient: false })
    // Absent, not undefined: `'cause' in error` is how callers (and Node's inspector) tell "no cause".
    expect('cause' in e).toBe(false)
    expect('retryAfterMs' in e).toBe(false)
    const cause = new Error('socket hang up')
    const t = new TokenRelayError('REFRESH_FAILED', 'm', { cause, transient: true, retryAfterMs: 2000 })
    expect(t).toMatchObject({ cause, transient: true, retryAfterMs: 2000 })
    expect('cause' in new TokenRelayError('REFRESH_FAILED', 'm', { cause: undefined })).toBe(true)
  })

  it('SessionExpiredError: SESSION_EXPIRED with a default message, its own name, and the cause it is given', () => {
    const plain = new SessionExpiredError()
    expect(plain).toBeInstanceOf(TokenRelayError)
    expect(plain).toMatchObject({ code: 'SESSION_EXPIRED', message: 'session expired', name: 'SessionExpiredError', transient: false })
    const cause = { statusCode: 400 }
    expect(new SessionExpiredError('refused', cause)).toMatchObject({ message: 'refused', cause })
  })

  it('isTokenRelayError checks the code when one is named', () => {
    const e = new TokenRelayError('LOGGED_OUT', 'x')
    expect(isTokenRelayError(e, 'LOGGED_OUT')).toBe(true)
    expect(isTokenRelayError(e, 'ABORTED')).toBe(false)
    expect(isTokenRelayError({ __tokenRelayError: true, code: 'ABORTED' }, 'ABORTED')).toBe(true) // another copy's error
    expect(isTokenRelayError({ __tokenRelayError: 'yes', code: 'ABORTED' })).toBe(false)
    expect(isTokenRelayError(null)).toBe(false)
  })
})
