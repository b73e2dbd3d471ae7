import { describe, expect, it } from 'vitest'
import { bearerError, expiryDetector, parseBody, pick } from './detect.js'

describe('expiryDetector', () => {
  it('defaults to status 401 only', () => {
    const expired = expiryDetector()
    expect(expired({ statusCode: 401 })).toBe(true)
    expect(expired({ statusCode: 403 })).toBe(false)
    expect(expired({ statusCode: 200, data: { code: 99997 } })).toBe(false)
  })

  it('matches a status list', () => {
    const expired = expiryDetector({ status: [401, 419] })
    expect(expired({ statusCode: 419 })).toBe(true)
    expect(expired({ statusCode: 500 })).toBe(false)
  })

  it('compares body codes as strings at a dot path', () => {
    const expired = expiryDetector({ codes: [1002, '0002'], codeField: 'result.code' })
    expect(expired({ statusCode: 200, data: { result: { code: '1002' } } })).toBe(true)
    expect(expired({ statusCode: 200, data: { result: { code: 1002 } } })).toBe(true)
    expect(expired({ statusCode: 200, data: { result: { code: '0002' } } })).toBe(true)
    expect(expired({ statusCode: 200, data: { result: { code: 2 } } })).toBe(false)
    expect(expired({ statusCode: 200, data: { code: 1002 } })).toBe(false)
    expect(expired({ statusCode: 200, data: null })).toBe(false)
  })

  it('parses string bodies (uploads) before looking for the code', () => {
    const expired = expiryDetector({ codes: [99997] })
    expect(expired({ statusCode: 200, data: '{"code":99997,"message":"TOKEN EXPIRED"}' })).toBe(true)
    expect(expired({ statusCode: 200, data: '{"code":0}' })).toBe(false)
    expect(expired({ statusCode: 200, data: 'not json {' })).toBe(false)
  })

  it('reads the RFC 6750 challenge: invalid_token is expiry, insufficient_scope is not', () => {
    const expired = expiryDetector({ status: [401, 403] })
    expect(expired({ statusCode: 401, header: { 'WWW-Authenticate': 'Bearer error="invalid_token"' } })).toBe(true)
    expect(expired({ statusCode: 401, header: { 'www-authenticate': 'Bearer realm="x"' } })).toBe(true)
    expect(expired({ statusCode: 403, header: { 'www-authenticate': 'Bearer error="insufficient_scope"' } })).toBe(false)
    expect(expired({ statusCode: 401, header: { 'WWW-Authenticate': ['Bearer error="invalid_request"'] } })).toBe(false)
  })

  it('an invalid_token challenge is expiry whatever the status list says', () => {
    const expired = expiryDetector({ status: [419] })
    expect(expired({ statusCode: 401, header: { 'WWW-Authenticate': 'Bearer error="invalid_token"' } })).toBe(true)
    expect(expired({ statusCode: 401 })).toBe(false)
  })
})

describe('helpers', () => {
  it('bearerError, parseBody and pick', () => {
    expect(bearerError({ statusCode: 401, header: { 'WWW-AUTHENTICATE': 'Bearer error=invalid_token' } })).toBe('invalid_token')
    expect(bearerError({ statusCode: 401 })).toBeUndefined()
    expect(parseBody(' [1] ')).toEqual([1])
    expect(parseBody('plain')).toBe('plain')
    expect(pick({ a: { b: 0 } }, 'a.b')).toBe(0)
    expect(pick('str', 'length')).toBeUndefined()
  })
})
