import { defineConfig } from 'vite'
import uni from '@dcloudio/vite-plugin-uni'
import { tokenRelay } from 'tokenrelay/uniapp/vite'

/**
 * The API base URL is fixed at build time (`TOKENRELAY_API=http://host:port npm run build:h5`).
 * At run time `globalThis.__TOKENRELAY_API__` wins when set (see src/shared/api.ts).
 */
const API = process.env.TOKENRELAY_API || 'http://127.0.0.1:3000'

export default defineConfig({
  plugins: [
    uni(),
    // Adds `app.use(TokenRelay, config)` after createSSRApp(...) in src/main.ts, `config` being the default
    // export of src/tokenrelay.config.ts. Warns when main.ts has no createSSRApp(...); a missing config fails the build.
    tokenRelay({ config: 'src/tokenrelay.config.ts' }),
  ],
  define: {
    TOKENRELAY_API: JSON.stringify(API),
  },
})
