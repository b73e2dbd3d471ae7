// platformRelay's own parts: the one warning about a relative URL with no baseURL, and an app without
// onSessionExpired (the login page alone handles the end of the session).
import { describe, expect, it, vi } from 'vitest'
import type { RelayRequest, RelayResponse } from '../../src/index.js'
import type { NavigationApi } from './login-page.js'
import { platformRelay } from './relay.js'

const nav = (): NavigationApi => ({
  navigateTo: vi.fn(),
  redirectTo: vi.fn(),
  switchTab: vi.fn(),
  navigateBack: vi.fn(),
  getCurrentPages: () => [],
})
const storage = { get: () => undefined, set() {}, remove() {} }
const ok = async (): Promise<RelayResponse> => ({ statusCode: 200 })

describe('platformRelay', () => {
  it('warns once about a relative URL without baseURL, a colon after a slash included; an absolute one is fine', async () => {
    const warn = vi.fn()
    const relative = () => warn.mock.calls.map(([m]) => String(m)).filter((m) => m.includes('relative URL'))
    const { relay } = platformRelay({ origins: ['https://api.test'], logger: { log() {}, warn } }, { storage, transport: ok, nav })
    await relay.send({ url: 'https://api.test/x' }, ok)
    expect(relative()).toEqual([])
    await relay.send({ url: 'items/all:batch' }, ok)
    await relay.send({ url: '/other' }, ok)
    expect(relative()).toHaveLength(1)
    expect(relative()[0]).toMatch(/relative URL 'items\/all:batch' with no baseURL/)
  })

  it('a URL that is not a string is left to the engine, not reported as relative', async () => {
    const warn = vi.fn()
    const { relay } = platformRelay({ logger: { log() {}, warn } }, { storage, transport: ok, nav })
    await relay.send({ url: 42 } as unknown as RelayRequest, ok).catch(() => {})
    expect(warn.mock.calls.filter(([m]) => /relative URL/.test(m))).toEqual([])
  })

  it('a session that ends without an onSessionExpired option reports no error', async () => {
    const { relay } = platformRelay(
      { baseURL: 'https://api.test', logger: { log() {}, warn() {} }, loginPage: '/pages/login/index' },
      { storage, transport: ok, nav },
    )
    const errors: unknown[] = []
    relay.on('error', ({ error }) => errors.push(error))
    await relay.setCredentials({ accessToken: 'dead' })
    await relay.send({ url: '/x' }, async () => ({ statusCode: 401 })).catch(() => {})
    expect(errors).toEqual([])
  })
})
