import { describe, expect, it } from 'vitest'
import { originOf, resolveURL } from './url.js'

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
  ])('%s against %s → %s', (url, base, out) => {
    expect(resolveURL(url, base)).toBe(out)
  })
})
