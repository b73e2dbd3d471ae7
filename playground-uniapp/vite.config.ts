import { defineConfig } from 'vite'
import uni from '@dcloudio/vite-plugin-uni'

/**
 * The API base URL is fixed at build time (`TOKENRELAY_API=http://host:port npm run build:h5`).
 * At run time `globalThis.__TOKENRELAY_API__` wins when set (see src/shared/api.ts).
 */
const API = process.env.TOKENRELAY_API || 'http://127.0.0.1:3000'

export default defineConfig({
  plugins: [
    // ── tokenrelay: Vite plugin goes here, NEXT TO uni() ───────────────────────────────
    // Once the library is installed (npm pack of the repo root → `file:../tokenrelay-0.1.0.tgz`),
    // add e.g. `tokenrelayUni({ configModule: '/src/tokenrelay.config.ts' })`: it rewrites
    // src/main.ts to `app.use(TokenRelay, options)` (see the marker there).
    // ────────────────────────────────────────────────────────────────────────────────────
    uni(),
  ],
  define: {
    TOKENRELAY_API: JSON.stringify(API),
  },
})
