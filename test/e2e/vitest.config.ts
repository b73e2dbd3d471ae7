import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

/**
 * End-to-end tests against the BUILT playgrounds: scripts/e2e.mjs (`npm run test:e2e`) packs the library,
 * installs it into both playgrounds, runs their eight builds, then this config. Kept apart from the root
 * `vitest run` (whose include is *.test.ts); after one full run, rerun the suites alone with
 *   npx vitest run --config test/e2e/vitest.config.ts
 */
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/e2e/**/*.e2e.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // One output at a time: the machine is small and Chromium is heavy.
    fileParallelism: false,
    maxWorkers: 1,
  },
})
