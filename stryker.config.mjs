// @ts-check
// Mutation testing of the engine (`src/`): `npm run mutate` runs this, then stryker.platforms.config.mjs.
// Two runs rather than one because each folder has its own floor (issue 13: src ≥ 90 %, platforms ≥ 80 %)
// and Stryker's `thresholds.break` applies to a whole run.
//
// What is not mutated, and why:
// - test files (`*.test.ts`, `*.test.tsx`) and type tests (`*.test-d.ts`): they are the tests; type tests
//   run under `tsc`, not Vitest, so no mutant in them could ever be killed.
// - `src/types.ts`, `src/options.ts`: declarations only, Stryker finds nothing to mutate in them.
//
// Equivalent mutants (a change no test can observe) are listed with a reason in stryker/equivalent.mjs; its
// `equivalent` ignorer marks them ignored where Stryker can single them out, and the report shows the reason.
//
// Incremental results live in reports/mutation/ (git-ignored, with the HTML and JSON reports): they describe
// one working tree's mutants and tests, change with every edit, and would conflict between people; a fresh
// clone pays one full run (src about 15 min on two shared cores). A rerun after a small change retests only
// the mutants in changed code or covered by changed tests. One limit of Stryker's: a static mutant (code run
// when a module loads) that survived is reused as is, even after a test that kills it is added; run
// `npx stryker run <config> --force` then (stryker-js#6119).

/** Settings both runs share. */
export const shared = {
  packageManager: 'npm',
  plugins: ['@stryker-mutator/vitest-runner', './stryker/equivalent.mjs'],
  testRunner: 'vitest',
  // The repo's own Vitest config (timeouts, environments), its include list narrowed to the folder's own
  // suites (stryker/vitest.*.config.ts): the engine is scored by the engine's tests, not by what the adapter
  // tests happen to exercise. test/ is never run: its build, bundle-size, README and e2e checks run outside
  // the process Stryker instruments (a child build, esbuild), so they cannot kill a mutant.
  coverageAnalysis: 'perTest',
  ignorers: ['equivalent'],
  incremental: true,
  // Two shared cores: one worker each.
  concurrency: 2,
  // Added to 1.5 × a mutant's tests' normal time before it counts as a timeout (an infinite loop or a
  // promise that never settles: detected).
  timeoutMS: 5_000,
  // Not copied into the sandbox: the playgrounds, built output and e2e harness no Vitest suite above reads.
  ignorePatterns: [
    'playground-taro',
    'playground-uniapp',
    'dist',
    'test/e2e',
    'test-artifacts',
    'demo-timeline.html',
    '.vitest-cache',
    'bench',
  ],
  reporters: ['clear-text', 'progress', 'html', 'json'],
  clearTextReporter: { allowEmojis: false, logTests: false },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
}

// The property test runs 10 000 random interleavings by default (8 s); under Stryker it runs once per
// mutant it covers, so a few hundred runs are used there (its seed is fixed, the examples stay the same).
process.env.FC_RUNS ??= '300'

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  ...shared,
  mutate: ['src/**/*.ts', '!src/**/*.test.ts', '!src/**/*.test-d.ts'],
  vitest: { configFile: 'stryker/vitest.src.config.ts', related: true },
  thresholds: { high: 95, low: 90, break: 90 },
  incrementalFile: 'reports/mutation/src-incremental.json',
  htmlReporter: { fileName: 'reports/mutation/src.html' },
  jsonReporter: { fileName: 'reports/mutation/src.json' },
}
