import { defineConfig, type UserConfigExport } from '@tarojs/cli'
import TsconfigPathsPlugin from 'tsconfig-paths-webpack-plugin'
import { tokenRelay } from 'tokenrelay/taro/plugin'
import devConfig from './dev'
import prodConfig from './prod'

/**
 * The API base URL is fixed at build time (`TOKENRELAY_API=http://host:port npm run build:weapp`).
 * At run time `globalThis.__TOKENRELAY_API__` wins when set (see src/shared/api.ts): the e2e
 * harness points one build at servers on ephemeral ports that way.
 */
const API = process.env.TOKENRELAY_API || 'http://127.0.0.1:3000'

// Each platform gets its own output directory so the three builds can coexist (test/e2e reads them).
const outputRoot = `dist/${process.env.TARO_ENV || 'weapp'}`

export default defineConfig<'webpack5'>(async (merge) => {
  const baseConfig: UserConfigExport<'webpack5'> = {
    projectName: 'tokenrelay-playground-taro',
    date: '2026-11-22',
    designWidth: 750,
    deviceRatio: {
      640: 2.34 / 2,
      750: 1,
      375: 2,
      828: 1.81 / 2,
    },
    sourceRoot: 'src',
    outputRoot,
    // ── tokenrelay ───────────────────────────────────────────────────────────────────────
    // tokenrelay/taro/plugin installs tokenrelay before any page code runs, with the default export of
    // src/tokenrelay.config.ts (functions allowed) and these plain-data options merged over it. tokenRelay()
    // is the typed form of ['tokenrelay/taro/plugin', { … }], as the README writes it.
    plugins: [tokenRelay({ config: 'src/tokenrelay.config.ts', options: { loginPage: '/pages/login/index' } })],
    // ────────────────────────────────────────────────────────────────────────────────────
    defineConstants: {
      TOKENRELAY_API: JSON.stringify(API),
    },
    copy: { patterns: [], options: {} },
    framework: 'react',
    compiler: 'webpack5',
    cache: { enable: false },
    mini: {
      postcss: {
        pxtransform: { enable: true, config: {} },
        cssModules: { enable: false, config: { namingPattern: 'module', generateScopedName: '[name]__[local]___[hash:base64:5]' } },
      },
      webpackChain(chain) {
        chain.resolve.plugin('tsconfig-paths').use(TsconfigPathsPlugin)
      },
    },
    h5: {
      publicPath: '/',
      staticDirectory: 'static',
      router: { mode: 'hash' },
      output: {
        filename: 'js/[name].[hash:8].js',
        chunkFilename: 'js/[name].[chunkhash:8].js',
      },
      miniCssExtractPluginOption: {
        ignoreOrder: true,
        filename: 'css/[name].[hash].css',
        chunkFilename: 'css/[name].[chunkhash].css',
      },
      postcss: {
        autoprefixer: { enable: true, config: {} },
        cssModules: { enable: false, config: { namingPattern: 'module', generateScopedName: '[name]__[local]___[hash:base64:5]' } },
      },
      webpackChain(chain) {
        chain.resolve.plugin('tsconfig-paths').use(TsconfigPathsPlugin)
      },
    },
  }

  if (process.env.NODE_ENV === 'development') {
    return merge({}, baseConfig, devConfig)
  }
  return merge({}, baseConfig, prodConfig)
})
