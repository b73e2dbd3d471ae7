// @vitest-environment happy-dom
/// <reference lib="dom" />
import { act, createElement } from 'react'
import { createRoot } from 'react-dom/client'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { API, fakeBackend } from '../../test/helpers/fake-backend.js'
import { createTokenRelay } from '../../src/index.js'
import { useTokenRelay } from './index.js'

;(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true
const flush = () => act(async () => void (await new Promise((r) => setTimeout(r, 0))))

afterEach(() => {
  document.body.innerHTML = ''
})

describe('useTokenRelay (React)', () => {
  it('re-renders on login, while refreshing, and on logout', async () => {
    const backend = fakeBackend()
    const relay = createTokenRelay({ baseURL: API, refresh: backend.refresh, transport: backend.transport })
    let renders = 0
    let api: ReturnType<typeof useTokenRelay> | undefined
    function Session() {
      renders++
      api = useTokenRelay(relay)
      return createElement('p', { id: 's' }, `${api.loggedIn ? 'in' : 'out'} ${api.refreshing ? 'refreshing' : 'idle'}`)
    }
    const root = createRoot(document.body.appendChild(document.createElement('div')))
    await act(async () => root.render(createElement(Session)))
    const text = () => document.getElementById('s')!.textContent
    expect(text()).toBe('out idle')

    await act(async () => relay.setCredentials(backend.login()))
    await flush()
    expect(text()).toBe('in idle')

    const release = backend.hold('/auth/refresh')
    let refreshed!: Promise<unknown>
    await act(async () => void (refreshed = api!.login()))
    await flush()
    expect(text()).toBe('in refreshing')
    release()
    await act(async () => void (await refreshed))
    await flush()
    expect(text()).toBe('in idle')
    expect(api!.credentials?.accessToken).toBe('at-2')

    await act(async () => api!.logout())
    await flush()
    expect(text()).toBe('out idle')
    const before = renders
    await flush()
    expect(renders).toBe(before) // no change, no render
    root.unmount()
  })

  it('without an installed relay it says so', () => {
    function Broken() {
      useTokenRelay(undefined)
      return null
    }
    const root = createRoot(document.createElement('div'))
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {})
    expect(() => act(() => root.render(createElement(Broken)))).toThrow(/no relay installed/)
    spy.mockRestore()
  })
})
