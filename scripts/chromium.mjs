// Which Chromium the H5 runs drive (scripts/e2e.mjs, test/e2e/h5-runtime.ts). A fresh machine needs no apt step:
// a system Chromium is used when one launches, else the headless build that the devDependency
// @sparticuz/chromium ships inside its npm tarball (unpacked to the temp dir on first use, about 1.5 s).
// Never `npx playwright install`: it downloads browsers from a host this machine cannot reach.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'

/** Where Debian, Ubuntu and Google's packages put the browser. */
export const SYSTEM_CHROMIUMS = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
]

/**
 * Flags of the npm build that would change what the tests see: it is built for serverless functions, where
 * CORS and mixed content do not matter. Without them the page keeps the browser's real security rules.
 */
const NPM_FLAGS_DROPPED = ['--disable-web-security', '--allow-running-insecure-content', '--disable-site-isolation-trials']

/** True when `path --version` answers: the file exists and runs on this machine (libraries, architecture). */
export function launches(path) {
  if (!path || !existsSync(path)) return false
  try {
    execFileSync(path, ['--version'], { stdio: 'pipe', timeout: 15_000 })
    return true
  } catch {
    return false
  }
}

/**
 * The Chromium to launch and the extra flags it needs.
 * `$CHROMIUM_PATH`, when set, replaces the system list (set it to a missing path to force the npm build).
 * @param {{ candidates?: string[], env?: Record<string, string | undefined> }} [options]
 * @returns {Promise<{ executablePath: string, args: string[], source: 'system' | 'npm', tried: string[] }>}
 */
export async function findChromium(options = {}) {
  const env = options.env || process.env
  const tried = options.candidates || (env.CHROMIUM_PATH ? [env.CHROMIUM_PATH] : SYSTEM_CHROMIUMS)
  for (const path of tried) {
    if (launches(path)) return { executablePath: path, args: [], source: 'system', tried }
  }
  let npmBuild
  try {
    npmBuild = (await import('@sparticuz/chromium')).default
  } catch (error) {
    throw new Error(
      `No Chromium that launches at ${tried.join(', ')}, and the devDependency @sparticuz/chromium is not installed (run npm install): ${error.message}`,
    )
  }
  const executablePath = await npmBuild.executablePath()
  const args = npmBuild.args.filter((flag) => !NPM_FLAGS_DROPPED.includes(flag))
  return { executablePath, args, source: 'npm', tried }
}
