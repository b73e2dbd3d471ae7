import type { PropsWithChildren } from 'react'
import { useLaunch } from '@tarojs/taro'
import './app.css'

// ── tokenrelay ──────────────────────────────────────────────────────────────────────────
// Nothing to import here: tokenrelay/taro/plugin (config/index.ts) injects a runtime that imports
// src/tokenrelay.config.ts and calls install() before this file and every page run. An app without
// the plugin would call `install(config)` from 'tokenrelay/taro' in its first import instead.
// ────────────────────────────────────────────────────────────────────────────────────────

function App({ children }: PropsWithChildren<any>) {
  useLaunch(() => {
    console.log('[playground-taro] launched on', process.env.TARO_ENV)
  })
  return children
}

export default App
