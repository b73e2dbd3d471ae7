import { describe, expect, it, vi } from 'vitest'
import { deliver, guarded, promisify } from './callbacks.js'

const raise = (message: string) => () => {
  throw new Error(message)
}

describe('deliver', () => {
  it('calls success or fail, then complete, with the value', () => {
    const seen: string[] = []
    const callbacks = {
      success: (v: string) => seen.push(`success ${v}`),
      fail: (v: string) => seen.push(`fail ${v}`),
      complete: (v: string) => seen.push(`complete ${v}`),
    }
    deliver(callbacks, true, 'a', vi.fn())
    deliver(callbacks, false, 'b', vi.fn())
    deliver({}, true, 'c', vi.fn())
    expect(seen).toEqual(['success a', 'complete a', 'fail b', 'complete b'])
  })

  it('a throwing callback is reported once, and complete still runs, last', () => {
    const report = vi.fn()
    const complete = vi.fn()
    expect(() => deliver({ success: raise('s'), complete }, true, 1, report)).not.toThrow()
    expect(() => deliver({ fail: raise('f'), complete: raise('c') }, false, 2, report)).not.toThrow()
    expect(complete).toHaveBeenCalledWith(1)
    expect(report.mock.calls.map(([message, error]) => [message, (error as Error).message])).toEqual([
      ['[tokenrelay] a success callback threw:', 's'],
      ['[tokenrelay] a fail callback threw:', 'f'],
      ['[tokenrelay] a complete callback threw:', 'c'],
    ])
  })
})

describe('guarded', () => {
  it('wraps only the callbacks given; each reports what it throws instead of throwing', () => {
    const report = vi.fn()
    const complete = vi.fn()
    const wrapped = guarded({ success: raise('s'), complete }, report)
    expect(Object.keys(wrapped)).toEqual(['success', 'complete'])
    expect(() => wrapped.success!(1 as never)).not.toThrow()
    wrapped.complete!(2 as never)
    expect(complete).toHaveBeenCalledWith(2)
    expect(report).toHaveBeenCalledTimes(1)
  })
})

it('promisify turns a success/fail call into a promise', async () => {
  await expect(promisify<number>((o) => o.success(1))).resolves.toBe(1)
  await expect(promisify((o) => o.fail('no'))).rejects.toBe('no')
})
