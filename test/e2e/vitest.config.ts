import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

/**
 * End-to-end tests against the BUILT playgrounds (see playgrounds.e2e.ts for the build commands).
 * Kept apart from the root `vitest run` (whose include is *.test.ts): run with
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
