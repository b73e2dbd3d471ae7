import { describe, expect, it } from 'vitest'
import type { PlatformOptions } from './types.js'
import { INSTALL_OPTIONS, hasDefaultExport, unknownKeys } from './options.js'

describe('unknownKeys', () => {
  it('names each unknown key with the known one it probably meant', () => {
    expect(unknownKeys({ loginpage: '/p', baseUrl: 'x', refreshAhead: 1, zzz: 1, baseURL: 'ok' }, INSTALL_OPTIONS)).toEqual([
      "'loginpage' (did you mean 'loginPage'?)",
      "'baseUrl' (did you mean 'baseURL'?)",
      "'refreshAhead' (did you mean 'refreshAheadMs'?)",
      "'zzz'",
    ])
    expect(unknownKeys({ mian: 'src/main.ts' }, ['config', 'main'])).toEqual(["'mian' (did you mean 'main'?)"])
    expect(unknownKeys(undefined, ['config'])).toEqual([])
  })

  it('INSTALL_OPTIONS lists every install() option', () => {
    // A key PlatformOptions gains and the list lacks is a type error here.
    const all: Record<keyof PlatformOptions, true> = Object.fromEntries(INSTALL_OPTIONS.map((k) => [k, true])) as Record<
      (typeof INSTALL_OPTIONS)[number],
      true
    >
    expect(Object.keys(all)).toHaveLength(INSTALL_OPTIONS.length)
  })
})

it('hasDefaultExport: the forms a config module uses, not a comment', () => {
  expect(hasDefaultExport('export default { a: 1 }')).toBe(true)
  expect(hasDefaultExport('const c = {}\nexport { c as default }')).toBe(true)
  expect(hasDefaultExport("export { default } from './x'")).toBe(true)
  expect(hasDefaultExport('module.exports = {}')).toBe(true)
  expect(hasDefaultExport('export const config = {}\n// export default config')).toBe(false)
})
