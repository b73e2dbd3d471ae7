import { createSSRApp } from 'vue'
import App from './App.vue'

export function createApp() {
  // tokenRelay() in vite.config.ts turns the next line into
  //   createSSRApp(App).use(TokenRelayPlugin, config)   (config: src/tokenrelay.config.ts)
  // Without the plugin, write that app.use yourself: import { TokenRelayPlugin } from 'tokenrelay/uniapp'.
  const app = createSSRApp(App)
  return { app }
}
