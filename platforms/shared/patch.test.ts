// replace(): the property it defines behaves like the platform's own (writable, enumerable, replaceable
// again by uninstall()), and it says when the replacement did not take.
import { describe, expect, it } from 'vitest'
import { replace } from './patch.js'

describe('replace', () => {
  it('defines a writable, enumerable, configurable property, which uninstall can replace again', () => {
    const original = () => 'original'
    const wrapper = () => 'wrapper'
    const wx: Record<string, unknown> = { request: original }
    expect(replace(wx, 'request', wrapper)).toBe(true)
    expect(Object.getOwnPropertyDescriptor(wx, 'request')).toEqual({ value: wrapper, writable: true, enumerable: true, configurable: true })
    expect(replace(wx, 'request', original)).toBe(true)
    expect(wx.request).toBe(original)
  })

  it('says false when the object refuses it', () => {
    const frozen = Object.freeze({ request: () => 'original' })
    expect(replace(frozen, 'request', () => 'wrapper')).toBe(false)
  })
})
