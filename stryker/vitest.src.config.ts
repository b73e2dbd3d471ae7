// The repo's Vitest config with only the engine's suites: Stryker scores `src/` by the engine's own tests.
// (Stryker's `testFiles` option would do this, but in 9.6 it activates static mutants too late, after their
// module has loaded, so they all "survive": stryker-js#6144.)
import { fileURLToPath } from 'node:url'
import base from '../vite.config.js'

export default { ...base, root: fileURLToPath(new URL('..', import.meta.url)), test: { ...base.test, include: ['src/**/*.test.ts'] } }
