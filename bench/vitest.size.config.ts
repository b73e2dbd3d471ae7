// `npm run size`: the size budgets on their own (see bench/size.test.ts).
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: { root: fileURLToPath(new URL('..', import.meta.url)), include: ['bench/size.test.ts'], testTimeout: 60_000 },
})
