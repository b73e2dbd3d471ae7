// The H5 runs work on a machine without apt's Chromium: scripts/chromium.mjs takes a system Chromium that
// launches, else the headless build from the npm devDependency @sparticuz/chromium. The last test hides every
// system browser and drives the npm build through the e2e harness itself.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { findChromium } from '../scripts/chromium.mjs'
import { launchBrowser, openH5App } from './e2e/h5-runtime.js'

const dir = mkdtempSync(join(tmpdir(), 'tokenrelay-chromium-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
afterEach(() => vi.unstubAllEnvs())

function script(name: string, body: string): string {
  const file = join(dir, name)
  writeFileSync(file, `#!/bin/sh\n${body}\n`)
  chmodSync(file, 0o755)
  return file
}

describe('findChromium', () => {
  it('takes the first system Chromium that answers --version', async () => {
    const working = script('chromium-ok', 'echo "Chromium 1.0"')
    const found = await findChromium({ candidates: [join(dir, 'missing'), working] })
    expect(found).toMatchObject({ source: 'system', executablePath: working, args: [] })
  })

  it('skips a Chromium that is there but does not run, and falls back to the npm build', async () => {
    const broken = script('chromium-broken', 'echo "error while loading shared libraries" >&2; exit 127')
    const found = await findChromium({ candidates: [broken] })
    expect(found.source).toBe('npm')
    expect(found.executablePath).not.toBe(broken)
    // The npm build's serverless flags that would switch off CORS are not passed on.
    expect(found.args).not.toContain('--disable-web-security')
  })

  it('$CHROMIUM_PATH replaces the system list', async () => {
    const working = script('chromium-env', 'echo "Chromium 2.0"')
    expect(await findChromium({ env: { CHROMIUM_PATH: working } })).toMatchObject({ source: 'system', executablePath: working })
    expect((await findChromium({ env: { CHROMIUM_PATH: join(dir, 'nowhere') } })).source).toBe('npm')
  })
})

it('with no system Chromium, the e2e harness launches the npm build and runs a page', async () => {
  vi.stubEnv('CHROMIUM_PATH', join(dir, 'no-chromium-here'))
  expect((await findChromium()).source).toBe('npm')
  const site = join(dir, 'site')
  rmSync(site, { recursive: true, force: true })
  mkdirSync(site)
  writeFileSync(
    join(site, 'index.html'),
    `<p id="out">waiting</p><script>fetch('/data.json').then(r => r.json()).then(d => { out.textContent = 'fetched ' + d.n })</script>`,
  )
  writeFileSync(join(site, 'data.json'), '{"n":42}')
  const browser = await launchBrowser()
  try {
    expect(browser.version()).toMatch(/^\d+\./)
    const app = await openH5App({ browser, dir: site })
    await app.waitForText('fetched 42')
    expect(app.pageErrors).toEqual([])
    await app.close()
  } finally {
    await browser.close()
  }
}, 60_000)
