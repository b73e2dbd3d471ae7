// Types as an app sees them, whatever its moduleResolution: a tiny consumer project per mode (node10, as in
// Taro 4's template and many uni-app projects; node16 as CommonJS and as ESM; nodenext; bundler) with
// node_modules/tokenrelay holding the packed package, type-checked like `tsc --noEmit -p` with
// skipLibCheck: false. Every subpath must resolve its types (no TS2307), `auth: false` must type-check on each
// framework's request options, and `satisfies PlatformOptions` must still catch a misspelt option (the
// `@ts-expect-error` lines fail the check if it does not).
import { cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import ts from 'typescript'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT, packedPackage } from './helpers/packed.js'

interface Mode {
  name: string
  compilerOptions: Record<string, unknown>
  type?: 'module' | 'commonjs'
  /** Vite 8 (the repository's) publishes ESM types only: a CommonJS or node10 project cannot load them. */
  viteTypes: boolean
}

const MODES: Mode[] = [
  { name: 'node10', compilerOptions: { module: 'commonjs', moduleResolution: 'node10' }, viteTypes: false },
  { name: 'node16-cjs', compilerOptions: { module: 'node16', moduleResolution: 'node16' }, type: 'commonjs', viteTypes: false },
  { name: 'node16-esm', compilerOptions: { module: 'node16', moduleResolution: 'node16' }, type: 'module', viteTypes: true },
  { name: 'nodenext', compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext' }, type: 'module', viteTypes: true },
  { name: 'bundler', compilerOptions: { module: 'esnext', moduleResolution: 'bundler' }, type: 'module', viteTypes: true },
]

/** One file per public subpath, written as the READMEs show it. */
const SOURCES: Record<string, string> = {
  'engine.ts': `
import { createTokenRelay, isTokenRelayError } from 'tokenrelay'
import type { Credentials, Transport } from 'tokenrelay'
declare const transport: Transport
export const relay = createTokenRelay({
  baseURL: 'https://api.example.com',
  transport,
  refresh: async ({ refreshToken, request }) =>
    (await request({ url: '/auth/refresh', method: 'POST', data: { refreshToken } })).data as Credentials,
})
export const ended = (error: unknown) => isTokenRelayError(error, 'SESSION_EXPIRED')
// @ts-expect-error a misspelt option is an error
createTokenRelay({ maxReplay: 2 })
`,
  'auth.ts': `
import { authRequests } from 'tokenrelay/auth'
import { install } from 'tokenrelay/wx'
export const relay = install({
  baseURL: 'https://api.example.com',
  authRequests: authRequests({ login: '/auth/login', logout: /^\\/auth\\/logout$/, credentials: (res) => (res.data as { data: unknown }).data }),
})
// @ts-expect-error the option takes what authRequests() makes, not its spec
install({ authRequests: { login: '/auth/login' } })
`,
  'wx.ts': `
import { install } from 'tokenrelay/wx'
import type { PlatformOptions } from 'tokenrelay/wx'
export const options = { baseURL: 'https://api.example.com', loginPage: '/pages/login/index' } satisfies PlatformOptions
// @ts-expect-error a misspelt option is caught
export const typo = { baseURl: 'https://api.example.com' } satisfies PlatformOptions
export const relay = install(options)
wx.request({ url: 'https://api.example.com/public', auth: false })
`,
  'my.ts': `
import { createMyRelay, install } from 'tokenrelay/my'
import type { PlatformOptions } from 'tokenrelay/my'
export const relay = install({ baseURL: 'https://api.example.com' } satisfies PlatformOptions)
export const wrapped = createMyRelay
// @ts-expect-error a misspelt option is caught
export const typo = { baseURl: 'https://api.example.com' } satisfies PlatformOptions
`,
  'tt.ts': `
import { createTtRelay, install } from 'tokenrelay/tt'
import type { PlatformOptions, TtLike } from 'tokenrelay/tt'
export const relay = install({ baseURL: 'https://api.example.com', tabBar: ['pages/home/index'] } satisfies PlatformOptions)
export const wrapped = (t: TtLike) => createTtRelay({ baseURL: 'https://api.example.com' }, t).request({ url: '/me' })
// @ts-expect-error a misspelt option is caught
export const typo = { baseURl: 'https://api.example.com' } satisfies PlatformOptions
`,
  'taro.ts': `
import Taro from '@tarojs/taro'
import { install } from 'tokenrelay/taro'
import type { PlatformOptions } from 'tokenrelay/taro'
import type { Credentials } from 'tokenrelay'
export default {
  baseURL: 'https://api.example.com',
  refresh: async ({ refreshToken, request }) =>
    (await request({ url: '/auth/refresh', method: 'POST', data: { refreshToken } })).data as Credentials,
  exchange: async (code, { request }) => (await request({ url: '/auth/login', method: 'POST', data: { code } })).data as Credentials,
} satisfies PlatformOptions
// @ts-expect-error a misspelt option is caught
export const typo = { baseURl: 'https://api.example.com' } satisfies PlatformOptions
export const relay = install({ baseURL: 'https://api.example.com' })
Taro.request({ url: 'https://api.example.com/public', auth: false })
Taro.uploadFile({ url: 'https://api.example.com/upload', filePath: 'x', name: 'file', auth: false })
`,
  'taro-plugin.ts': `
import tokenrelayTaroPlugin from 'tokenrelay/taro/plugin'
import type { TaroPluginOptions } from 'tokenrelay/taro/plugin'
export const plugin: typeof tokenrelayTaroPlugin = tokenrelayTaroPlugin
export const options: Partial<TaroPluginOptions> = { config: 'src/tokenrelay.config.ts' }
`,
  'taro-h5-api.ts': `
import { relayFileApi } from 'tokenrelay/taro/h5-api'
export const wrap = relayFileApi
`,
  'react.ts': `
import { useTokenRelay } from 'tokenrelay/react'
export const useSession = () => useTokenRelay().loggedIn
`,
  'uniapp.ts': `
import { createSSRApp } from 'vue'
import { TokenRelayPlugin, useTokenRelay } from 'tokenrelay/uniapp'
import type { PlatformOptions } from 'tokenrelay/uniapp'
export const app = createSSRApp({}).use(TokenRelayPlugin, { baseURL: 'https://api.example.com' } satisfies PlatformOptions)
// @ts-expect-error a misspelt option is caught
export const typo = { baseURl: 'https://api.example.com' } satisfies PlatformOptions
export const session = useTokenRelay
uni.request({ url: 'https://api.example.com/public', auth: false })
`,
  'uniapp-vite.ts': `
import { tokenRelay } from 'tokenrelay/uniapp/vite'
export const plugin = tokenRelay({ config: 'src/tokenrelay.config.ts' })
// @ts-expect-error a misspelt option is caught
tokenRelay({ confg: 'src/tokenrelay.config.ts' })
`,
}

const VITE_CONFIG = `
import { defineConfig } from 'vite'
import { tokenRelay } from 'tokenrelay/uniapp/vite'
export default defineConfig({ plugins: [tokenRelay({ config: 'src/tokenrelay.config.ts' })] })
`

// Inside the repository's node_modules/, so the consumers resolve @tarojs/taro, vue, react and vite from it.
let base: string
let packageDir: string

beforeAll(() => {
  packageDir = realpathSync(packedPackage().dir)
  mkdirSync(join(ROOT, 'node_modules/.cache'), { recursive: true })
  base = mkdtempSync(join(ROOT, 'node_modules/.cache/tokenrelay-consumers-'))
}, 180_000)
afterAll(() => rmSync(base, { recursive: true, force: true }))

/** Diagnostics of the consumer's own files and of tokenrelay's declarations; third-party ones are not ours to fix. */
function check(mode: Mode): string[] {
  const dir = join(base, mode.name)
  mkdirSync(join(dir, 'src'), { recursive: true })
  mkdirSync(join(dir, 'node_modules'), { recursive: true })
  symlinkSync(packageDir, join(dir, 'node_modules/tokenrelay'), 'dir')
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: `consumer-${mode.name}`, private: true, ...(mode.type ? { type: mode.type } : {}) }),
  )
  for (const [file, code] of Object.entries(SOURCES)) writeFileSync(join(dir, 'src', file), code)
  if (mode.viteTypes) writeFileSync(join(dir, 'src/vite.config.ts'), VITE_CONFIG)
  const tsconfig = {
    compilerOptions: {
      target: 'es2020',
      lib: ['es2020', 'dom'],
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      esModuleInterop: true,
      jsx: 'react-jsx',
      // The platform globals an app declares: wx (miniprogram-api-typings) and uni (@dcloudio/types).
      types: ['miniprogram-api-typings', '@dcloudio/types'],
      typeRoots: [join(ROOT, 'node_modules'), join(ROOT, 'node_modules/@types')],
      ...mode.compilerOptions,
    },
    include: ['src'],
  }
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2))
  const parsed = ts.parseJsonConfigFileContent(tsconfig, ts.sys, dir)
  expect(parsed.errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))).toEqual([])
  const program = ts.createProgram(parsed.fileNames, parsed.options)
  // The consumer really used the package's declarations, not some other copy.
  const mine = program.getSourceFiles().filter((f) => {
    const file = realpathSync(f.fileName)
    return file.startsWith(dir) || file.startsWith(packageDir)
  })
  expect(mine.filter((f) => f.isDeclarationFile).length, 'declarations loaded from node_modules/tokenrelay').toBeGreaterThan(0)
  // What `tsc --noEmit` reports for these files; third-party declarations (Taro's own fail under
  // skipLibCheck: false) are not checked: the whole-program check took a minute per mode on 2 cores.
  const diagnostics = [
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...mine.flatMap((f) => [...program.getSyntacticDiagnostics(f), ...program.getSemanticDiagnostics(f)]),
  ]
  return diagnostics.map((d) => {
    const where = d.file
      ? `${relative(ROOT, realpathSync(d.file.fileName))}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}`
      : '(global)'
    return `${where} TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`
  })
}

it('checks every public subpath', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
  const imported = new Set(Object.values(SOURCES).flatMap((code) => [...code.matchAll(/from '(tokenrelay[\w/-]*)'/g)].map((m) => m[1])))
  for (const key of Object.keys(pkg.exports).filter((k) => k !== './package.json')) {
    const spec = key === '.' ? 'tokenrelay' : `tokenrelay/${key.slice(2)}`
    expect(imported.has(spec), `add a consumer file importing ${spec} to SOURCES`).toBe(true)
  }
})

describe.each(MODES)('types under moduleResolution $name', (mode) => {
  it('every subpath resolves, auth: false type-checks, satisfies PlatformOptions catches typos (skipLibCheck: false)', () => {
    expect(check(mode)).toEqual([])
  }, 60_000)
})

it('without the subpath stubs, node10 cannot find the types (the TS2307 this guards against)', () => {
  const stubless = join(base, 'stubless-package')
  cpSync(packageDir, stubless, { recursive: true })
  rmSync(join(stubless, 'taro/package.json'))
  const dir = join(base, 'stubless')
  mkdirSync(join(dir, 'src'), { recursive: true })
  mkdirSync(join(dir, 'node_modules'), { recursive: true })
  symlinkSync(stubless, join(dir, 'node_modules/tokenrelay'), 'dir')
  writeFileSync(join(dir, 'src/taro.ts'), "import { install } from 'tokenrelay/taro'\nexport { install }\n")
  const program = ts.createProgram([join(dir, 'src/taro.ts')], {
    ...ts.convertCompilerOptionsFromJson({ ...MODES[0].compilerOptions, strict: true, noEmit: true }, dir).options,
    types: [],
  })
  const codes = program.getSemanticDiagnostics(program.getSourceFile(join(dir, 'src/taro.ts'))).map((d) => d.code)
  expect(codes).toContain(2307)
})
