// @ts-check
// `npm run lint` (part of `npm test`): typescript-eslint's recommended rules, strict equality everywhere
// (`== null` aside, which means "null or undefined" on purpose), and Prettier for the layout.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      'reports/**',
      '.stryker-tmp/**',
      'playground-taro/**',
      'playground-uniapp/**',
      'taro/**',
      '**/*.d.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
    rules: {
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // Expression statements like `cond && fn()` and `void promise` are the house style for fire-and-forget.
      '@typescript-eslint/no-unused-expressions': ['error', { allowShortCircuit: true, allowTernary: true }],
      // `declare global { namespace WechatMiniprogram { … } }` adds `auth` to the platforms' own option types.
      '@typescript-eslint/no-namespace': ['error', { allowDeclarations: true }],
    },
  },
  {
    // Test doubles and the demo imitate untyped platform objects (wx, my, uni, Taro): `any` is the honest type there.
    files: ['**/*.test.ts', '**/*.test.tsx', '**/*.test-d.ts', 'test/**', 'bench/**', 'demo/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Taro's plugin context and request params are untyped framework objects (its types say `any` too).
    files: ['platforms/taro/plugin.ts', 'platforms/taro/task.ts', 'platforms/uniapp/adapter.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
        URLSearchParams: 'readonly',
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
      },
    },
  },
)
