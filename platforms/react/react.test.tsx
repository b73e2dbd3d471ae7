// @vitest-environment happy-dom
/// <reference lib="dom" />
import { act, createElement } from 'react'
import { createRoot } from 'react-dom/client'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { API, fakeBackend } from '../../test/helpers/fake-backend.js'
import { createTokenRelay } from '../../src/index.js'
import { installRelay } from '../shared/registry.js'
import type { InstalledRelay, ReturnAfterLogin } from './index.js'
import { useRelay, useReturnAfterLogin, useTokenRelay } from './index.js'

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

  it('a login page: your login call, setCredentials(), then returnAfterLogin(); the page returned to hears of it', async () => {
    const backend = fakeBackend()
    const back = vi.fn()
    let listeners: ((to: ReturnAfterLogin) => void)[] = []
    // An installed adapter, as tokenrelay/taro's install() leaves it: its login page's way back included.
    const relay = installRelay('tokenrelay/test', {}, {}, () => ({
      relay: createTokenRelay({ baseURL: API, refresh: backend.refresh, transport: backend.transport }),
      returnAfterLogin: () => (back(), listeners.forEach((fn) => fn({ url: '/pages/home/index', via: 'navigateBack' }))),
      onReturnAfterLogin: (fn) => ((listeners = [...listeners, fn]), () => void (listeners = listeners.filter((l) => l !== fn))),
      teardown() {},
    }))
    try {
      let session: ReturnType<typeof useTokenRelay> | undefined
      let found: InstalledRelay | undefined
      const heard: ReturnAfterLogin[] = []
      function Login() {
        session = useTokenRelay()
        found = useRelay()
        return createElement('p', { id: 's' }, session.loggedIn ? 'in' : 'out')
      }
      function Home() {
        useReturnAfterLogin((to) => heard.push(to))
        return null
      }
      const root = createRoot(document.body.appendChild(document.createElement('div')))
      await act(async () => root.render(createElement('div', null, createElement(Home), createElement(Login))))
      expect(found).toBe(relay)
      expect(document.getElementById('s')!.textContent).toBe('out')

      await act(async () => session!.setCredentials(backend.login())) // what the app's own login call returned
      await flush()
      expect(document.getElementById('s')!.textContent).toBe('in')
      expect(relay.getCredentials()?.accessToken).toBe('at-1')
      act(() => session!.returnAfterLogin())
      expect(back).toHaveBeenCalledTimes(1)
      expect(heard).toEqual([{ url: '/pages/home/index', via: 'navigateBack' }])

      root.unmount()
      expect(listeners).toEqual([]) // unsubscribed with the component
    } finally {
      relay.uninstall()
    }
  })

  it('returnAfterLogin() of a relay without a login page (createTokenRelay) does nothing', async () => {
    let session: ReturnType<typeof useTokenRelay> | undefined
    function Page() {
      session = useTokenRelay(createTokenRelay({ baseURL: API }))
      return null
    }
    const root = createRoot(document.createElement('div'))
    await act(async () => root.render(createElement(Page)))
    expect(() => session!.returnAfterLogin()).not.toThrow()
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
    function NoRelay() {
      useRelay()
      return null
    }
    expect(() => act(() => createRoot(document.createElement('div')).render(createElement(NoRelay)))).toThrow(
      /useRelay\(\): no relay installed/,
    )
    spy.mockRestore()
  })
})
