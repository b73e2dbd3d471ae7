// @vitest-environment happy-dom
/// <reference lib="dom" />
// The Vue half of tokenrelay/uniapp on real Vue 3.4 (the root's vue@3.4.21, the version uni-app pins): the
// composable's refs follow the relay, the plugin installs the adapter and provides the relay to components.
import { createApp, defineComponent, effectScope, h, nextTick, watchEffect } from 'vue'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { API, fakeBackend } from '../../test/helpers/fake-backend.js'
import { createTokenRelay } from '../../src/index.js'
import type { InstalledRelay } from './index.js'
import type { ReturnAfterLogin } from './index.js'
import { RELAY_KEY, TokenRelay, TokenRelayPlugin, onReturnAfterLogin, useRelay, useTokenRelay } from './index.js'
import { injectedPlugin } from './vue.js'

const flush = async () => {
  await new Promise((r) => setTimeout(r, 0))
  await nextTick()
}

/** Just what install() touches: interceptors and storage. */
function fakeUni() {
  const interceptors = new Map<string, object>()
  const storage = new Map<string, string>()
  return {
    interceptors,
    storage,
    addInterceptor: (api: string, hooks: object) => interceptors.set(api, hooks),
    removeInterceptor: (api: string) => interceptors.delete(api),
    getStorageSync: (k: string) => storage.get(k) || '',
    setStorageSync: (k: string, v: string) => storage.set(k, v),
    removeStorageSync: (k: string) => storage.delete(k),
  }
}

let installed: InstalledRelay | undefined
afterEach(() => {
  installed?.uninstall()
  installed = undefined
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

describe('useTokenRelay (Vue)', () => {
  it('its refs follow login, a running refresh and logout; they stop when the scope ends', async () => {
    const backend = fakeBackend()
    const relay = createTokenRelay({ baseURL: API, refresh: backend.refresh, transport: backend.transport })
    const scope = effectScope()
    const seen: string[] = []
    const session = scope.run(() => {
      const s = useTokenRelay(relay)
      watchEffect(() =>
        seen.push(
          `${s.loggedIn.value ? 'in' : 'out'} ${s.refreshing.value ? 'refreshing' : 'idle'} ${s.credentials.value?.accessToken ?? '-'}`,
        ),
      )
      return s
    })!
    expect(seen).toEqual(['out idle -'])

    await relay.setCredentials(backend.login())
    await flush()
    expect(session.loggedIn.value).toBe(true)

    const release = backend.hold('/auth/refresh')
    const refreshed = session.login()
    await flush()
    expect(session.refreshing.value).toBe(true)
    release()
    await refreshed
    await flush()
    expect(session.credentials.value?.accessToken).toBe('at-2')

    await session.logout()
    await flush()
    // (The store may also show the new token while the flight is still closing: 'in refreshing at-2'.)
    expect(seen.slice(0, 3)).toEqual(['out idle -', 'in idle at-1', 'in refreshing at-1'])
    expect(seen.slice(-2)).toEqual(['in idle at-2', 'out idle -'])

    scope.stop()
    const count = seen.length
    await relay.setCredentials(backend.login())
    await flush()
    expect(session.loggedIn.value).toBe(false) // unsubscribed with its scope
    expect(seen).toHaveLength(count)
  })

  it('its refs are read-only views: writing one does not change the session', async () => {
    const relay = createTokenRelay({ baseURL: API })
    const { loggedIn } = effectScope().run(() => useTokenRelay(relay))!
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    ;(loggedIn as unknown as { value: boolean }).value = true
    expect(loggedIn.value).toBe(false)
    warn.mockRestore()
  })

  it('without an installed relay it says what to do', () => {
    expect(() => useTokenRelay()).toThrow(/app\.use\(TokenRelayPlugin, options\) in src\/main\.ts/)
  })
})

describe('app.use(TokenRelay, options)', () => {
  it('installs the uni adapter once and provides the relay: inject, $relay and a rendering component', async () => {
    const uni = fakeUni()
    vi.stubGlobal('uni', uni)
    const backend = fakeBackend()
    let fromSetup: InstalledRelay | undefined
    const Session = defineComponent({
      setup() {
        fromSetup = useRelay()
        const { loggedIn, refreshing } = useTokenRelay()
        return () => h('p', { id: 's' }, `${loggedIn.value ? 'in' : 'out'} ${refreshing.value ? 'refreshing' : 'idle'}`)
      },
    })
    const app = createApp(Session).use(TokenRelay, { baseURL: API, refresh: backend.refresh, transport: backend.transport })
    installed = app.config.globalProperties.$relay
    expect([...uni.interceptors.keys()]).toEqual(['request', 'uploadFile', 'downloadFile'])
    expect(app.runWithContext(() => useRelay())).toBe(installed)
    expect(app._context.provides[RELAY_KEY as symbol]).toBe(installed)

    app.mount(document.body.appendChild(document.createElement('div')))
    expect(fromSetup).toBe(installed)
    const text = () => document.getElementById('s')!.textContent
    expect(text()).toBe('out idle')
    await installed.setCredentials(backend.login())
    await flush()
    expect(text()).toBe('in idle')
    expect(uni.storage.get('tokenrelay')).toContain('at-1') // the adapter's storage: uni.setStorageSync

    await installed.clear()
    await flush()
    expect(text()).toBe('out idle')
    app.unmount()
  })

  it('a login page: setCredentials() and returnAfterLogin() from useTokenRelay(); onReturnAfterLogin() in the page returned to', async () => {
    const uni = Object.assign(fakeUni(), {
      navigateTo: vi.fn((o: { url: string }) => stack.push({ route: o.url.slice(1), options: {} })),
      navigateBack: vi.fn(() => void stack.pop()),
      redirectTo: vi.fn(),
      switchTab: vi.fn(),
    })
    const stack = [{ route: 'pages/home/index', options: {} }]
    vi.stubGlobal('uni', uni)
    vi.stubGlobal('getCurrentPages', () => stack.slice())
    const backend = fakeBackend()
    const heard: ReturnAfterLogin[] = []
    let login: ReturnType<typeof useTokenRelay> | undefined
    const Home = defineComponent({
      setup() {
        onReturnAfterLogin((to) => heard.push(to))
        return () => null
      },
    })
    const Login = defineComponent({
      setup() {
        login = useTokenRelay()
        return () => h('p', { id: 's' }, login!.loggedIn.value ? 'in' : 'out')
      },
    })
    const app = createApp({ render: () => [h(Home), h(Login)] }).use(TokenRelayPlugin, {
      baseURL: API,
      transport: backend.transport,
      loginPage: '/pages/login/index',
    })
    installed = app.config.globalProperties.$relay
    await installed.setCredentials(backend.login())
    app.mount(document.body.appendChild(document.createElement('div')))
    // The session ends (no refresh strategy here): the login page opens over home.
    await installed.refresh().catch(() => {})
    expect(stack.map((p) => p.route)).toEqual(['pages/home/index', 'pages/login/index'])
    // The login page: the app's own login call, then setCredentials() and back.
    await login!.setCredentials(backend.login())
    await flush()
    expect(document.getElementById('s')!.textContent).toBe('in')
    login!.returnAfterLogin()
    expect(uni.navigateBack).toHaveBeenCalledTimes(1)
    expect(stack.map((p) => p.route)).toEqual(['pages/home/index'])
    expect(heard).toEqual([{ url: '/pages/home/index', via: 'navigateBack' }])
    app.unmount()
    login!.returnAfterLogin() // nothing to return to
    expect(heard).toHaveLength(1)
  })

  it('outside a component useRelay() falls back to the relay install() made', () => {
    vi.stubGlobal('uni', fakeUni())
    const app = createApp({ render: () => null }).use(TokenRelay, { baseURL: API })
    installed = app.config.globalProperties.$relay
    expect(useRelay()).toBe(installed)
  })
  it('TokenRelay is the deprecated name of TokenRelayPlugin (the core type is also called TokenRelay)', () => {
    expect(TokenRelay).toBe(TokenRelayPlugin)
  })

  it('with the Vite plugin in the build, a manual app.use(TokenRelayPlugin, options) is reported once and its options apply', () => {
    vi.stubGlobal('uni', fakeUni())
    const warn = vi.fn()
    const vueWarn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const logger = { log() {}, warn }
    // What tokenrelay/uniapp/vite injects after createSSRApp(App), then the app's own line.
    const app = createApp({ render: () => null })
      .use(injectedPlugin, { baseURL: 'https://config.example', logger })
      .use(TokenRelayPlugin, { baseURL: 'https://manual.example', logger })
    installed = app.config.globalProperties.$relay
    expect(warn).toHaveBeenCalledTimes(1)
    expect(warn.mock.calls[0][0]).toMatch(/^\[tokenrelay\] tokenrelay\/uniapp\/vite already installed the relay/)
    expect(warn.mock.calls[0][0]).toMatch(/app\.use\(TokenRelayPlugin, options\) \(at [^)]*vue\.test\.ts:\d+:\d+\) replaces it/)
    expect(installed.isAllowed('https://manual.example/me')).toBe(true)
    expect(installed.isAllowed('https://config.example/me')).toBe(false)
    expect(app.runWithContext(() => useRelay())).toBe(installed)
    expect(vueWarn).not.toHaveBeenCalled() // no "App already provides property" either
    vueWarn.mockRestore()
  })
})
