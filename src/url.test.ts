import { describe, expect, it, vi } from 'vitest'
import { createTokenRelay } from './relay.js'
import type { RelayRequest } from './types.js'
import { originOf, resolveURL } from './url.js'

const quiet = { log() {}, warn() {} }

describe('originOf', () => {
  it.each([
    ['https://API.example.com/x?y', 'https://api.example.com'],
    ['https://api.example.com:443/', 'https://api.example.com'],
    ['http://api.example.com:80', 'http://api.example.com'],
    ['http://api.example.com:8080/a', 'http://api.example.com:8080'],
    ['https://user:pw@evil.com/x', 'https://evil.com'],
    ['https://api.example.com@evil.com/', 'https://evil.com'],
    ['http://[::1]:3000/a', 'http://[::1]:3000'],
    ['http://127.0.0.1:3000', 'http://127.0.0.1:3000'],
    ['/relative', null],
    ['api/x', null],
    ['https:///nohost', null],
    ['ws://api.example.com:80/socket', 'ws://api.example.com'],
    ['wss://api.example.com:443/socket', 'wss://api.example.com'],
    ['https://api.example.com:80/', 'https://api.example.com:80'],
    ['https://%61pi.example.com/', 'https://api.example.com'], // percent-decoded, like browsers do
    ['https://api%2Fevil.com/', null], // decodes to a host a WHATWG parser refuses
    ['https://api%40evil.com/', null],
    ['https://api%20evil.com/', null],
    ['https://api%zz.com/', null], // not decodable
    ['/go?to=https://evil.com/', null], // relative, whatever its query holds
    ['x/https://evil.com/', null], // a scheme has no `/`
  ])('%s → %s', (url, origin) => {
    expect(originOf(url)).toBe(origin)
  })
})

describe('resolveURL', () => {
  it.each([
    ['/users', 'https://a.test/v1', 'https://a.test/users'],
    ['users', 'https://a.test/v1/', 'https://a.test/v1/users'],
    ['./users', 'https://a.test/v1', 'https://a.test/v1/users'],
    ['//cdn.test/x', 'https://a.test/v1', 'https://cdn.test/x'],
    ['https://b.test/x', 'https://a.test', 'https://b.test/x'],
    ['/users', undefined, '/users'],
    ['users', 'https://a.test/v1//', 'https://a.test/v1/users'],
    ['.//users', 'https://a.test/v1', 'https://a.test/v1/users'],
    ['users/1', 'https://a.test/v1', 'https://a.test/v1/users/1'],
    ['/users', '/api', '/api/users'], // a base without an origin (H5 page-relative)
    ['v2/items:batch', 'https://a.test/api', 'https://a.test/api/v2/items:batch'], // a colon after a `/` is no scheme
    ['items/all:batch', 'https://a.test/api', 'https://a.test/api/items/all:batch'],
  ])('%s against %s → %s', (url, base, out) => {
    expect(resolveURL(url, base)).toBe(out)
  })
})

describe('allow-list without baseURL or origins', () => {
  it('warns at the first URL it judges, and only then', () => {
    const warn = vi.fn()
    const relay = createTokenRelay({ logger: { log() {}, warn } })
    expect(warn).not.toHaveBeenCalled()
    expect(relay.isAllowed('https://a.test/x')).toBe(true)
    expect(warn).toHaveBeenCalledTimes(1)
    expect(warn).toHaveBeenCalledWith('[tokenrelay] no baseURL or origins: the token goes to every host')
    expect(relay.isAllowed('https://b.test/y')).toBe(true)
    expect(relay.isAllowed('/z')).toBe(true)
    expect(warn).toHaveBeenCalledTimes(1)
  })
})

// Where a request really goes is what `new URL()` says (browsers, H5 builds, Node): the relay may refuse a
// token the browser would send to an allowed host (conservative), never the other way round.
describe('hostile and odd URLs: the allow-list agrees with new URL()', () => {
  const API = 'https://api.example.com'
  const PAGE = 'https://app.example.com/pages/index' // an H5 page: relative URLs go to its origin
  const withBase = createTokenRelay({ baseURL: API, logger: quiet })
  const originsOnly = createTokenRelay({ origins: [API, 'http://[::1]:3000'], logger: quiet })
  const byRegExp = createTokenRelay({ origins: [/^https:\/\/[a-z]+\.example\.com$/], logger: quiet })
  // [url, allowed with baseURL, allowed with origins only (relative = the page's own origin)]
  const table: [string, boolean, boolean][] = [
    ['https://api.example.com/x', true, true],
    ['/x', true, true],
    ['x', true, true],
    ['./x', true, true],
    ['?x=1', true, true],
    ['/x?q=a b', true, true],
    ['HTTPS://API.EXAMPLE.COM/x', true, true],
    ['https://api.example.com:443/x', true, true],
    ['https://api.example.com:0443/x', true, true],
    ['https://user:pw@api.example.com/x', true, true],
    ['https://evil.com:443@api.example.com/x', true, true],
    ['https://evil.com%2F@api.example.com/x', true, true],
    ['https://api%2Eexample.com/x', true, true],
    ['https://api.example.com?@evil.com', true, true],
    ['https://api.example.com#@evil.com', true, true],
    // backslashes: WHATWG ends the authority at `\` in http(s)
    ['https://evil.com\\@api.example.com/x', false, false],
    ['https://api.example.com\\@evil.com/x', false, false],
    ['\\\\evil.com/x', false, false],
    ['/\\evil.com', false, false],
    ['\\/evil.com', false, false],
    ['https:\\\\evil.com', false, false],
    ['https://api.example.com/x\\y', false, false],
    // spaces and control characters: stripped or removed by the browser
    [' //evil.com', false, false],
    ['\t//evil.com', false, false],
    ['/\t/evil.com', false, false],
    ['/\n/evil.com', false, false],
    ['/\r/evil.com', false, false],
    ['ht\ttps://evil.com', false, false],
    [' https://evil.com', false, false],
    ['https://evil.com ', false, false],
    ['\0https://evil.com', false, false],
    ['\x1f//evil.com', false, false],
    ['https://api.example.com\r\n.evil.com/', false, false],
    ['https://api.example.com\t/x', false, false],
    // other hosts
    ['//evil.com/x', false, false],
    ['https://api.example.com.evil.com/x', false, false],
    ['https://evil.com/api.example.com', false, false],
    ['https://api.example.com@evil.com/', false, false],
    ['https://a@b@evil.com/', false, false],
    ['https://api.example.com%2F@evil.com/', false, false],
    ['https://api.example.com:443@evil.com/', false, false],
    ['https://evil.com?@api.example.com', false, false],
    ['https://evil.com#@api.example.com', false, false],
    ['https://api.example.com./x', false, false],
    ['https://\u0430pi.example.com/x', false, false],
    ['https://api.example.com:65536/x', false, false],
    // other schemes and ports
    ['http://api.example.com/x', false, false],
    ['https://api.example.com:8443/x', false, false],
    ['wss://api.example.com/', false, false],
    ['javascript:alert(1)', false, false],
    ['data:text/plain,x', false, false],
    ['https:evil.com', false, false],
    ['https:/evil.com', false, false],
    // IPv6
    ['https://[::1]/x', false, false],
    ['http://[::1]:3000/x', false, true],
  ]

  /** Where the browser sends it: with baseURL the relay sends the resolved URL; without, the page resolves it. */
  const destination = (url: string, base: boolean): string | null => {
    try {
      return new URL(base ? resolveURL(url, API) : url, PAGE).origin
    } catch {
      return null // the browser refuses it: it goes nowhere
    }
  }

  it.each(table)('%j: with baseURL %s, with origins only %s', (url, expectBase, expectOrigins) => {
    expect(withBase.isAllowed(url)).toBe(expectBase)
    expect(originsOnly.isAllowed(url)).toBe(expectOrigins)
    // The oracle: an allowed URL really goes to an allowed origin.
    if (expectBase) expect(destination(url, true)).toBe(API)
    if (expectOrigins) expect([API, 'http://[::1]:3000', new URL(PAGE).origin]).toContain(destination(url, false))
    // And a URL that goes elsewhere is never allowed.
    const real = destination(url, true)
    if (real !== API) expect(withBase.isAllowed(url)).toBe(false)
    // RegExp origins get the same host: allowed only where the browser really goes to a matching origin, and
    // never through a backslash, a space or a control character.
    if (byRegExp.isAllowed(url)) expect(destination(url, false)).toMatch(/^https:\/\/[a-z]+\.example\.com$/)
    if (/[\0-\x20\\]/.test(url.split(/[?#]/)[0])) expect(byRegExp.isAllowed(url)).toBe(false)
  })

  it('covers at least 40 shapes', () => {
    expect(table.length).toBeGreaterThanOrEqual(40)
  })

  it.each(table.filter(([, allowed]) => !allowed).map(([url]) => [url]))('send() and stamp() attach no token to %j', async (url) => {
    const seen: RelayRequest[] = []
    const relay = createTokenRelay({ baseURL: API, logger: quiet })
    await relay.setCredentials({ accessToken: 'secret' })
    await relay.send({ url }, async (req) => (seen.push(req), { statusCode: 200 }))
    expect(seen[0].header?.Authorization).toBeUndefined()
    expect(relay.stamp({ url }).request.header?.Authorization).toBeUndefined()
  })
})
