// The engine runs on every platform, so it may not touch any platform's global or import a platform.
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const srcDir = join(import.meta.dirname, '../src')
const sources = readdirSync(srcDir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.test-d.ts'))
const PLATFORM_GLOBALS = [
  'wx',
  'my',
  'uni',
  'Taro',
  'swan',
  'tt',
  'qq',
  'window',
  'document',
  'fetch',
  'XMLHttpRequest',
  'localStorage',
  'sessionStorage',
  'navigator',
  'location',
  'getApp',
  'getCurrentPages',
  'process',
  'require',
  'Buffer',
  'atob',
  'btoa',
  'URL',
  'AbortController',
]

/** Code without comments and string contents, so prose and messages do not count. */
function code(file: string): string {
  return readFileSync(join(srcDir, file), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '')
    .replace(/(['"`])(?:\\.|(?!\1)[^\\])*\1/g, '""')
}

describe('src/ stays platform-free', () => {
  it('finds the sources', () => {
    expect(sources).toContain('relay.ts')
  })

  it.each(sources)('%s imports only relative modules', (file) => {
    const specifiers = [...readFileSync(join(srcDir, file), 'utf8').matchAll(/from\s+['"]([^'"]+)['"]/g)].map((m) => m[1])
    expect(specifiers.filter((s) => !s.startsWith('./'))).toEqual([])
  })

  it.each(sources)('%s uses no platform global', (file) => {
    const text = code(file)
    // A use is the bare name not preceded by `.` (a property) and not declared locally.
    const used = PLATFORM_GLOBALS.filter((g) => new RegExp(`(?<![.\\w$])${g}(?![\\w$])\\s*[.(\\[]`).test(text))
    expect(used).toEqual([])
  })

  it('the check catches a platform global', () => {
    const probe = 'const x = wx.request({}); window.fetch("")'
    expect(PLATFORM_GLOBALS.filter((g) => new RegExp(`(?<![.\\w$])${g}(?![\\w$])\\s*[.(\\[]`).test(probe))).toEqual(['wx', 'window'])
  })
})

describe('src/ stays readable', () => {
  // One room a file: a source past 250 lines is doing two jobs (ARCHITECTURE.md names the rooms).
  it.each(sources)('%s has at most 250 lines', (file) => {
    expect(readFileSync(join(srcDir, file), 'utf8').split('\n').length).toBeLessThanOrEqual(251)
  })
})
