/**
 * End to end: `npm run playground` (scripts/playground.mjs) as a person runs it. The command starts, prints the
 * URL, and serves the playground's H5 output and the reference server on that one origin; in Chromium the page
 * loads, the settings page's "Expire all tokens now" is tapped, and the home page's next run shows exactly one
 * refresh at the server (read from /__stats on the same origin), with every call replayed.
 *
 * Needs the H5 outputs scripts/e2e.mjs builds (the command would build them itself, which takes minutes).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { REPO_ROOT, launchBrowser, type PwBrowser, type PwPage } from './h5-runtime'

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

/** Starts `npm run playground -- <args>` in its own process group; resolves with the URL it prints. */
function startPlayground(args: string[]): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(npm, ['run', '--silent', 'playground', '--', ...args], {
    cwd: REPO_ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm run playground printed no URL in 60 s:\n${output}`)), 60_000)
    const read = (chunk: Buffer) => {
      output += chunk
      const url = /tokenrelay playground, .* H5: (http:\/\/127\.0\.0\.1:\d+)\//.exec(output)
      if (url) {
        clearTimeout(timer)
        resolve({ child, url: url[1], output: () => output })
      }
    }
    child.stdout!.on('data', read)
    child.stderr!.on('data', read)
    child.on('exit', (code) => reject(new Error(`npm run playground exited (${code}):\n${output}`)))
  })
}

/** Stops the command and what it started: the process group it leads (its own id). */
function stop(child: ChildProcess | undefined) {
  if (child?.pid && child.exitCode === null) process.kill(-child.pid, 'SIGTERM')
}

const PLAYGROUNDS = [
  { which: 'taro', h5: 'playground-taro/dist/h5', replayed: '12 expired calls replayed with the new token' },
  { which: 'uni', h5: 'playground-uniapp/dist/build/h5', replayed: 'done, 12 replayed' },
] as const

describe.each(PLAYGROUNDS)('npm run playground -- $which (Chromium)', ({ which, h5, replayed }) => {
  let browser: PwBrowser
  let started: Awaited<ReturnType<typeof startPlayground>> | undefined
  let page: PwPage

  beforeAll(async () => {
    if (!fs.existsSync(path.join(REPO_ROOT, h5, 'index.html')))
      throw new Error(`${h5} is not built: run npm run test:e2e (or npm run playground -- ${which} --build)`)
    started = await startPlayground([which, '--port', '0'])
    browser = await launchBrowser()
    page = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage()
  }, 90_000)
  afterAll(async () => {
    await browser?.close()
    stop(started?.child)
  })

  const texts = async () => (await page.locator('body').innerText()).split('\n').map((s) => s.trim())
  const waitForText = async (pattern: RegExp) => {
    const deadline = Date.now() + 15_000
    for (;;) {
      const lines = await texts()
      if (lines.some((l) => pattern.test(l))) return lines
      if (Date.now() > deadline) throw new Error(`${pattern} not on the page: ${JSON.stringify(lines.slice(0, 40))}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  const tap = (id: string) => page.locator(`#${id}`).first().click({ timeout: 10_000 })
  const stats = async () =>
    (await (await fetch(`${started!.url}/__stats`)).json()) as { refreshes: number; refreshAttempts: number; logins: number }
  const allOk = (lines: string[], run: number) => {
    const rows = lines.filter((l) => /^#\d+ /.test(l))
    expect(rows, `run ${run}`).toHaveLength(12)
    for (const row of rows) expect(row).toMatch(/^#\d+ (request|upload|download) 200 gen=/)
  }

  test('starts, prints the URL, and serves the page and the API on that origin', async () => {
    expect(started!.output()).toContain(
      `tokenrelay playground, ${which === 'taro' ? 'Taro (React)' : 'uni-app (Vue 3)'} H5: ${started!.url}/`,
    )
    const res = await fetch(`${started!.url}/__stats`)
    expect(res.status).toBe(200)
    await page.goto(`${started!.url}/`, { waitUntil: 'load' })
    await waitForText(/Run all/)
  })

  test('"Expire all tokens now" on the settings page, then the home page\'s requests: exactly one refresh at the server', async () => {
    await tap('run-all')
    if (which === 'uni') {
      // uni-app H5 has no platform login: the session starts on the login page, whose button logs in and
      // goes back to the home page, which runs its calls again.
      await waitForText(/^Log in$/)
      await tap('login')
    }
    allOk(await waitForText(/^run \d+ results 12\/12$/), 1)
    const before = await stats()
    expect(before).toMatchObject({ logins: 1, refreshes: 0 })

    await tap('go-settings')
    await tap('expire-all')
    await waitForText(/^control 200/)
    await (which === 'taro' ? tap('go-home') : page.evaluate('history.back()'))
    await waitForText(/Run all/)
    const run = Number((await texts()).find((l) => /^run \d+ results/.test(l))!.split(' ')[1]) + 1
    await tap('run-all')
    allOk(await waitForText(new RegExp(`^run ${run} results 12/12$`)), run)
    await waitForText(new RegExp(replayed))
    expect(await stats()).toMatchObject({ logins: 1, refreshes: 1, refreshAttempts: 1 })
  })
})
