import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMy, createWx } from '../../test/helpers/mini-platform.js'
import { install as installMy } from '../my/index.js'
import { install as installWx } from '../wx/index.js'
import { installedRelay } from './install.js'
import type { InstalledRelay } from './types.js'

const made: InstalledRelay[] = []
afterEach(() => {
  while (made.length) made.pop()!.uninstall()
})

describe('one installed adapter at a time', () => {
  it('records the installed relay and forgets it on uninstall', () => {
    const warn = vi.fn()
    const relay = installWx({ baseURL: 'https://a.test', logger: { log() {}, warn } }, createWx().wx as never)
    expect(installedRelay()).toBe(relay)
    expect(installedRelay('tokenrelay/wx')).toBe(relay)
    expect(installedRelay('tokenrelay/taro')).toBeUndefined()
    relay.uninstall()
    expect(installedRelay()).toBeUndefined()
    expect(warn).not.toHaveBeenCalled()
  })

  it('warns when a second adapter is installed over another (both would refresh)', () => {
    const warn = vi.fn()
    const logger = { log() {}, warn }
    made.push(installWx({ baseURL: 'https://a.test', logger }, createWx().wx as never))
    const my = installMy({ baseURL: 'https://a.test', logger }, createMy().my as never)
    made.push(my)
    expect(warn).toHaveBeenCalledTimes(1)
    expect(warn.mock.calls[0][0]).toMatch(/tokenrelay\/my is installed while tokenrelay\/wx already is/)
    expect(installedRelay()).toBe(my)
  })

  it('an earlier relay uninstalled late does not clear the newer one', () => {
    const logger = { log() {}, warn() {} }
    const first = installWx({ baseURL: 'https://a.test', logger }, createWx().wx as never)
    const second = installWx({ baseURL: 'https://a.test', logger }, createWx().wx as never)
    made.push(second)
    first.uninstall()
    expect(installedRelay()).toBe(second)
  })
})
