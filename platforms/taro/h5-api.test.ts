// relayFileApi (what the H5 build's generated module calls): it refuses anything but Taro's two file
// functions, and before install() its calls go to Taro's own function untouched.
import { describe, expect, it, vi } from 'vitest'
import { relayFileApi } from './h5-api.js'
import { isRelayed } from './task.js'

describe('relayFileApi', () => {
  it.each([
    ['request', () => Promise.resolve()],
    ['uploadFile', undefined],
    ['downloadFile', 'not a function'],
  ])('refuses %s with %s', (api, original) => {
    expect(() => relayFileApi(api as never, original as never)).toThrow(
      new TypeError(`[tokenrelay] relayFileApi(${api}): expects 'uploadFile' or 'downloadFile' and Taro's function for it`),
    )
  })

  it.each(['uploadFile', 'downloadFile'] as const)('wraps %s, marked relayed; not installed, a call goes to the original', async (api) => {
    const answer = Promise.resolve({ statusCode: 200 })
    const original = vi.fn(() => answer)
    const wrapped = relayFileApi(api, original)
    expect(isRelayed(wrapped)).toBe(true)
    expect(wrapped({ url: '/f' })).toBe(answer)
    expect(original).toHaveBeenCalledWith({ url: '/f' })
  })
})
