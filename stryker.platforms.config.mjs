// @ts-check
// Mutation testing of the adapters (`platforms/`), the second half of `npm run mutate`. Everything but
// what is set here comes from stryker.config.mjs, whose header says what is not mutated and why.
//
// The build-time plugins (platforms/taro/plugin.ts, platforms/uniapp/vite.ts) are mutated too: Stryker can
// run them, because their tests run them in the test process (plugin.test.ts against a fake Taro plugin
// context, vite.test.ts hook by hook and in a real `vite build` it starts itself). Only the playground
// builds (test/e2e) run them in a child process, and those are not part of this run.
//
// The adapter suites run over real HTTP against the reference server on 127.0.0.1 (an ephemeral port per
// test file), so a mutant's tests take longer here than in the engine's run.
import { shared } from './stryker.config.mjs'

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  ...shared,
  mutate: ['platforms/**/*.{ts,tsx}', '!platforms/**/*.test.{ts,tsx}', '!platforms/**/*.test-d.ts'],
  vitest: { configFile: 'stryker/vitest.platforms.config.ts', related: true },
  thresholds: { high: 90, low: 80, break: 80 },
  timeoutMS: 10_000,
  incrementalFile: 'reports/mutation/platforms-incremental.json',
  htmlReporter: { fileName: 'reports/mutation/platforms.html' },
  jsonReporter: { fileName: 'reports/mutation/platforms.json' },
}
