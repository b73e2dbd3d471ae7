/// <reference types="vite/client" />

declare module '*.vue' {
  import type { DefineComponent } from 'vue'
  const component: DefineComponent<{}, {}, any>
  export default component
}

/** Injected by `define` in vite.config.ts: the API base URL chosen at build time. */
declare const TOKENRELAY_API: string

/** Native globals, only touched inside `#ifdef MP-*` blocks. */
declare const wx: any
declare const my: any
declare const tt: any
