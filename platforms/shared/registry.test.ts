import { afterEach, describe, expect, it, vi } from 'vitest'
import { createTokenRelay } from '../../src/index.js'
import { createMy, createWx } from '../../test/helpers/mini-platform.js'
import { install as installMy } from '../my/index.js'
import { install as installWx } from '../wx/index.js'
import { asPlugin, callSite, installRelay, installedRelay } from './registry.js'
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

  it('installRelay: uninstalls the earlier install of the same adapter before building, tears down once, forgets on uninstall', () => {
    const warn = vi.fn()
    const log: string[] = []
    const build = (n: number) => () => {
      log.push(`build ${n}`)
      return {
        relay: createTokenRelay({ baseURL: 'https://a.test' }),
        returnAfterLogin() {},
        teardown: () => void log.push(`teardown ${n}`),
      }
    }
    const first = installRelay('tokenrelay/test', { logger: { log() {}, warn } }, { site: 'app.js:1:1' }, build(1))
    const second = installRelay('tokenrelay/test', { logger: { log() {}, warn } }, { site: 'app.js:9:1' }, build(2))
    expect(log).toEqual(['build 1', 'teardown 1', 'build 2'])
    expect(warn.mock.calls).toEqual([
      [
        '[tokenrelay] tokenrelay/test installed twice: install() (at app.js:9:1) replaces the earlier one (at app.js:1:1), which is now uninstalled. Install once, or uninstall() first.',
      ],
    ])
    first.uninstall()
    second.uninstall()
    second.uninstall()
    expect(log).toEqual(['build 1', 'teardown 1', 'build 2', 'teardown 2'])
    expect(installedRelay('tokenrelay/test')).toBeUndefined()
  })

  it("a build plugin's install (asPlugin) is named when a manual one replaces it, with the loginPage that changes", () => {
    const warn = vi.fn()
    const logger = { log() {}, warn }
    const build = () => ({ relay: createTokenRelay({ baseURL: 'https://a.test' }), returnAfterLogin() {}, teardown() {} })
    made.push(
      asPlugin({ by: 'tokenrelay/x/plugin', config: 'src/x.config.ts' }, () =>
        installRelay('tokenrelay/x', { logger, loginPage: '/pages/a' }, {}, build),
      ),
    )
    made.push(installRelay('tokenrelay/x', { logger, loginPage: '/pages/b' }, { site: 'app.js:3:1', call: 'use(X)' }, build))
    expect(warn.mock.calls[0][0]).toBe(
      "[tokenrelay] tokenrelay/x/plugin already installed the relay from src/x.config.ts; a manual use(X) (at app.js:3:1) replaces it: the plugin's options no longer apply (its loginPage '/pages/a' becomes '/pages/b'). Keep one of the two.",
    )
  })

  it('callSite() names the line that called the function asking, from the stack trace', () => {
    const where = () => callSite()
    const [site, here] = [where(), new Error().stack!.split('\n')[1]] // one line: the same line number
    expect(site).toMatch(/registry\.test\.ts:\d+:\d+$/)
    expect(site!.split(':').at(-2)).toBe(here.match(/:(\d+):\d+\)?$/)![1])
    expect(callSite(99)).toBeUndefined()
  })
})
