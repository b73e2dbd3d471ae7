import { describe, expect, it } from 'vitest'
import { createTokenRelay, decodeJwt } from './index.js'

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
const jwt = (claims: object) => `${b64({ alg: 'HS256' })}.${b64(claims)}.sig`

describe('decodeJwt', () => {
  it('reads the payload, unicode included', () => {
    expect(decodeJwt(jwt({ exp: 2000, iat: 1000, name: '张三' }))).toEqual({ exp: 2000, iat: 1000, name: '张三' })
  })

  it.each(['opaque', 'a.!!!.c', 'a..c', `a.${Buffer.from('"str"').toString('base64url')}.c`])('returns undefined for %s', (t) => {
    expect(decodeJwt(t)).toBeUndefined()
  })

  it('reads a payload in standard base64 too: `+`, `/` and `=` padding, as some servers send it', () => {
    const standard = Buffer.from(JSON.stringify({ sub: '>ÿü?' })).toString('base64')
    expect(standard).toBe('eyJzdWIiOiI+w7/DvD8ifQ==') // all three characters base64url does not use
    expect(decodeJwt(`h.${standard}.s`)).toEqual({ sub: '>ÿü?' })
  })

  it('reads bytes below 0x10 (a pretty-printed payload has newlines)', () => {
    expect(decodeJwt(`h.${Buffer.from('{\n  "exp": 1\n}').toString('base64url')}.s`)).toEqual({ exp: 1 })
  })

  it.each([
    ['a `=` inside the payload', 'eyJhIj=oxfQ'], // without the `=`: {"a":1}
    ['a character outside the alphabet after whole bytes', 'eyJhYmMiOjF9!'], // without the `!`: {"abc":1}
  ])('refuses %s instead of skipping it', (_, payload) => {
    expect(decodeJwt(`h.${payload}.s`)).toBeUndefined()
  })

  it('the relay takes the lifetime as exp - iat, measured on arrival, so a wrong device clock is harmless', async () => {
    const deviceNow = 5_000_000_000_000 // far from the server's clock
    const relay = createTokenRelay({
      baseURL: 'https://a.test',
      decodeToken: decodeJwt,
      clock: { now: () => deviceNow, setTimeout, clearTimeout } as never,
    })
    await relay.setCredentials({ accessToken: jwt({ iat: 1_000, exp: 1_000 + 3600 }) })
    expect(relay.getCredentials()?.expiresAt).toBe(deviceNow + 3_600_000)
    await relay.setCredentials({ accessToken: jwt({ exp: 1_000 }) })
    expect(relay.getCredentials()?.expiresAt).toBe(1_000_000)
    await relay.setCredentials({ accessToken: 'opaque' })
    expect(relay.getCredentials()?.expiresAt).toBeUndefined()
  })

  it('expiresIn from the server wins over the token', async () => {
    const relay = createTokenRelay({
      baseURL: 'https://a.test',
      decodeToken: decodeJwt,
      clock: { now: () => 0, setTimeout, clearTimeout } as never,
    })
    await relay.setCredentials({ accessToken: jwt({ iat: 0, exp: 10 }), expiresIn: 60 })
    expect(relay.getCredentials()?.expiresAt).toBe(60_000)
  })
})
