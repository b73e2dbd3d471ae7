// The repo's Vitest config with only the adapters' suites, for Stryker's run over `platforms/` (see
// vitest.src.config.ts for why this is not Stryker's `testFiles`).
import { fileURLToPath } from 'node:url'
import base from '../vite.config.js'

export default {
  ...base,
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: { ...base.test, include: ['platforms/**/*.test.ts', 'platforms/**/*.test.tsx'] },
}
