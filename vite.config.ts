/// <reference types="vitest/config" />
import { defineConfig } from 'vite'

/**
 * Public entries: name in `dist/` → source file. `package.json#exports` and the
 * size budgets read the same names, so add an entry here first.
 */
export const entries: Record<string, string> = {
  index: 'src/index.ts',
  auth: 'src/auth.ts',
  wx: 'platforms/wx/index.ts',
  my: 'platforms/my/index.ts',
  tt: 'platforms/tt/index.ts',
  taro: 'platforms/taro/index.ts',
  'taro/plugin': 'platforms/taro/plugin.ts',
  'taro/h5-api': 'platforms/taro/h5-api.ts',
  react: 'platforms/react/index.ts',
  uniapp: 'platforms/uniapp/index.ts',
  'uniapp/vite': 'platforms/uniapp/vite.ts',
}

export default defineConfig({
  build: {
    target: 'es2017',
    outDir: 'dist',
    emptyOutDir: true,
    minify: false,
    // No source maps in the package: every app bundles us again (Taro, uni-app, Vite), and the maps would be
    // a third of what users install (issue 15: the tarball holds only what users need).
    sourcemap: false,
    lib: {
      entry: entries,
      formats: ['es', 'cjs'],
      fileName: (format, name) => `${name}.${format === 'es' ? 'js' : 'cjs'}`,
    },
    rollupOptions: {
      // Framework SDKs are peers: the app's own copy must be used.
      external: [/^@tarojs\//, /^@dcloudio\//, 'vue', 'react', /^node:/],
    },
  },
  test: {
    include: [
      'src/**/*.test.ts',
      'platforms/**/*.test.ts',
      'platforms/**/*.test.tsx',
      'playground-server/**/*.test.ts',
      'test/**/*.test.ts',
    ],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
})
