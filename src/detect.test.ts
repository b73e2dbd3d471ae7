import { describe, expect, it } from 'vitest'
import { bearerError, expiryDetector, headerOf, parseBody, pick } from './detect.js'

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

describe('parseBody reads only strings that look like JSON objects or arrays', () => {
  it('leaves everything else as it is', () => {
    const notAString = ['{"a":1}'] // String() of it would parse
    expect(parseBody(notAString)).toBe(notAString)
    expect(parseBody('"{quoted}"')).toBe('"{quoted}"') // JSON, but a string literal, not a body
    expect(parseBody('{broken')).toBe('{broken')
  })
})

describe('headerOf', () => {
  it('finds a header by case-insensitive name in a plain object or a fetch-style Headers', () => {
    expect(headerOf({ statusCode: 200, header: { 'X-Other': 'no', 'Retry-After': '2' } }, 'retry-after')).toBe('2')
    expect(headerOf({ statusCode: 200, header: { 'Retry-After': 5 as never } }, 'retry-after')).toBe('5')
    expect(headerOf({ statusCode: 200, header: new Headers({ 'Retry-After': '3' }) as never }, 'retry-after')).toBe('3')
  })

  it('is undefined when the header is absent or empty-valued', () => {
    expect(headerOf({ statusCode: 200 }, 'retry-after')).toBeUndefined()
    expect(headerOf({ statusCode: 200, header: { 'X-Other': 'no' } }, 'retry-after')).toBeUndefined()
    expect(headerOf({ statusCode: 200, header: { 'Retry-After': null as never } }, 'retry-after')).toBeUndefined()
    expect(headerOf({ statusCode: 200, header: new Headers() as never }, 'retry-after')).toBeUndefined()
  })
})

describe('body codes', () => {
  it('a body without the code never matches, whatever the code list holds', () => {
    const expired = expiryDetector({ codes: ['undefined', 'null'] })
    expect(expired({ statusCode: 200, data: { message: 'ok' } })).toBe(false)
    expect(expired({ statusCode: 200, data: { code: null } })).toBe(false)
    expect(expired({ statusCode: 200, data: { code: 'null' } })).toBe(true)
  })
})
