import type { PropsWithChildren } from 'react'
import { useLaunch } from '@tarojs/taro'
import './app.css'

// ── tokenrelay: runtime entry ───────────────────────────────────────────────────────────
// Nothing to import here: the CLI plugin in config/index.ts injects the library's runtime
// ('post:' runtimePath) so that it runs before this file. An app without the plugin would
// `import './tokenrelay.setup'` here as its first import.
// ────────────────────────────────────────────────────────────────────────────────────────

function App({ children }: PropsWithChildren<any>) {
  useLaunch(() => {
    console.log('[playground-taro] launched on', process.env.TARO_ENV)
  })
  return children
}

export default App
