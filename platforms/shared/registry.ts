import type { TokenRelay } from '../../src/index.js'
import type { Report } from './report.js'
import { reporter } from './report.js'
import type { InstalledRelay, PlatformOptions } from './types.js'

/** Where an install came from: named in the warning when another install replaces it. */
export interface InstallOrigin {
  /** The build plugin whose generated code installed the relay (`tokenrelay/taro/plugin`, `tokenrelay/uniapp/vite`). */
  by?: string
  /** That plugin's config module, as the build config names it. */
  config?: string
  /** `file:line:col` of the call, when the stack trace tells. */
  site?: string
  /** The call as the app wrote it. @default 'install()' */
  call?: string
}

/** One install: its relay and how to report about it (the app's logger). */
export interface Installed {
  name: string
  relay: InstalledRelay
  report: Report
  origin: InstallOrigin
  loginPage?: string
}

/** Installed relays, oldest first: one per adapter at most, and normally one in all. */
const entries: Installed[] = []
/** The origin a build plugin's install is running under (see `asPlugin`). */
let pluginOrigin: InstallOrigin | undefined

/** The latest install not uninstalled (adapter `name`'s, when given). */
export const installed = (name?: string): Installed | undefined => {
  for (let i = entries.length - 1; i >= 0; i--) if (!name || entries[i].name === name) return entries[i]
}

/**
 * The relay an adapter's install() made and has not uninstalled (adapter `name`'s, when given): what
 * useTokenRelay(), the Vue plugin and the Taro H5 wrapper use by default.
 */
export const installedRelay = (name?: string): InstalledRelay | undefined => {
  const entry = installed(name)
  return entry && entry.relay
}

/**
 * `file:line:col` of the code `depth` calls up from the function calling this one (1: its caller), read
 * from the stack trace (V8 `at f (file:1:2)`, JavaScriptCore `f@file:1:2`); undefined when there is none.
 */
export function callSite(depth = 1): string | undefined {
  const frames = (new Error().stack || '').split('\n').filter((line) => /:\d+:\d+\)?\s*$/.test(line))
  // frames[0] is this function, frames[1] the one that called it.
  const match = /(?:\(|@|at )([^()@]*:\d+:\d+)\)?\s*$/.exec(frames[1 + depth] || '')
  return match ? match[1].trim() : undefined
}

/** Runs `install` as a build plugin's: a later manual install is then reported as replacing the plugin's. */
export function asPlugin<T>(origin: InstallOrigin, install: () => T): T {
  const outer = pluginOrigin
  pluginOrigin = origin
  try {
    return install()
  } finally {
    pluginOrigin = outer
  }
}

const at = (site?: string) => (site ? ` (at ${site})` : '')

function replacing(earlier: Installed, name: string, origin: InstallOrigin, loginPage?: string): string {
  const call = origin.call || 'install()'
  const { by, config } = earlier.origin
  if (!by)
    return `[tokenrelay] ${name} installed twice: ${call}${at(origin.site)} replaces the earlier one${at(earlier.origin.site)}, which is now uninstalled. Install once, or uninstall() first.`
  const page = earlier.loginPage ? ` (its loginPage '${earlier.loginPage}' ${loginPage ? `becomes '${loginPage}'` : 'is gone'})` : ''
  return `[tokenrelay] ${by} already installed the relay${config ? ` from ${config}` : ''}; a manual ${call}${at(origin.site)} replaces it: the plugin's options no longer apply${page}. Keep one of the two.`
}

/**
 * How every adapter installs. An earlier install of the same adapter is uninstalled first (its patches
 * would wrap the new ones and the platform would get the old relay's token), with one warning naming
 * both call sites; another adapter already installed is warned about (both would refresh the same
 * token). Then `build` makes the relay and patches the platform. The returned relay's `uninstall()`
 * runs `teardown` once and forgets the install: calling it again does nothing.
 */
export function installRelay(
  name: string,
  options: PlatformOptions,
  origin: InstallOrigin,
  build: () => { relay: TokenRelay; teardown(): void } & Partial<Pick<InstalledRelay, 'returnAfterLogin' | 'onReturnAfterLogin'>>,
): InstalledRelay {
  const report = reporter(options)
  const mine = { ...origin, ...pluginOrigin }
  const same = installed(name)
  const other = installed()
  if (same) {
    report(replacing(same, name, mine, options.loginPage))
    same.relay.uninstall()
  } else if (other) {
    report(
      `[tokenrelay] ${name} is installed while ${other.name} already is: install one adapter only, both would refresh the same token (${mine.call || 'install()'}${at(mine.site)}, the other${at(other.origin.site)})`,
    )
  }
  const { relay, returnAfterLogin = () => {}, onReturnAfterLogin = () => () => {}, teardown } = build()
  let active = true
  const entry: Installed = {
    name,
    report,
    origin: mine,
    loginPage: options.loginPage,
    relay: Object.assign(relay, {
      returnAfterLogin,
      onReturnAfterLogin,
      uninstall() {
        if (!active) return
        active = false
        teardown()
        entries.splice(entries.indexOf(entry), 1)
      },
    }),
  }
  entries.push(entry)
  return entry.relay
}
