// `npm run size`: the size ceilings on their own, with today's sizes printed (see test/size.test.ts).
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: { root: fileURLToPath(new URL('..', import.meta.url)), include: ['test/size.test.ts'], testTimeout: 60_000 },
})
