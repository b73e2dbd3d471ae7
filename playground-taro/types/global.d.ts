/// <reference types="@tarojs/taro" />

declare module '*.css'

declare namespace NodeJS {
  interface ProcessEnv {
    NODE_ENV: 'development' | 'production'
    TARO_ENV: 'weapp' | 'alipay' | 'tt' | 'h5'
    /** Build-time API base URL, read by config/index.ts (default http://127.0.0.1:3000). */
    TOKENRELAY_API?: string
  }
}

/** Injected by `defineConstants` in config/index.ts: the API base URL chosen at build time. */
declare const TOKENRELAY_API: string

/** Native globals, only touched in platform-specific branches (dead-code eliminated elsewhere). */
declare const wx: any
declare const my: any
