// The relay's events: every listener runs, one that throws is reported and stops no other, off() is exact.
import { describe, expect, it, vi } from 'vitest'
import { createEmitter } from './events.js'

describe('createEmitter', () => {
  it('a listener that throws is reported through the logger; the next one still gets the payload', () => {
    const warn = vi.fn()
    const events = createEmitter({ log() {}, warn })
    const boom = new Error('boom')
    const after = vi.fn()
    events.on('replay', () => {
      throw boom
    })
    events.on('replay', after)
    const payload = { request: { url: '/x' }, attempt: 1 }
    events.emit('replay', payload)
    expect(warn).toHaveBeenCalledWith('[tokenrelay] listener failed', boom)
    expect(after).toHaveBeenCalledWith(payload)
  })

  it('off() removes its own listener only, and twice is harmless', () => {
    const events = createEmitter({ log() {}, warn() {} })
    const a = vi.fn()
    const b = vi.fn()
    const offA = events.on('queued', a)
    events.on('queued', b)
    offA()
    offA()
    events.emit('queued', { request: { url: '/x' } })
    expect(a).not.toHaveBeenCalled()
    expect(b).toHaveBeenCalledTimes(1)
  })
})
