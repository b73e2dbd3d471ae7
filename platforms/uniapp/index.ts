// tokenrelay/uniapp: the uni.addInterceptor adapter and, in the same entry, its Vue 3 plugin and composables.
// One entry on purpose: every uni-app (Vue 3) project has 'vue' (its build aliases it to uni's own runtime), and
// the module that `app.use(TokenRelayPlugin)` installs is then the very one pages import `useTokenRelay` from.
export { install } from './adapter.js'
export type { InstalledRelay, PlatformOptions } from './adapter.js'
export type { ReturnAfterLogin } from '../shared/types.js'
export { RELAY_KEY, TokenRelay, TokenRelayPlugin, injectedPlugin, onReturnAfterLogin, useRelay, useTokenRelay } from './vue.js'
export type { TokenRelaySession } from './vue.js'
