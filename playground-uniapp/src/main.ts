import { createSSRApp } from 'vue'
import App from './App.vue'

export function createApp() {
  const app = createSSRApp(App)
  // ── tokenrelay: install point ─────────────────────────────────────────────────────────
  // The library's Vite plugin (vite.config.ts) inserts `app.use(TokenRelay, options)` right
  // after `createSSRApp(...)` above; writing that line here by hand is the manual setup.
  // ────────────────────────────────────────────────────────────────────────────────────────
  return { app }
}
