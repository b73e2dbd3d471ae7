// Type-checked by `tsc --noEmit -p tsconfig.json` (part of `npm test`); never run.
import Taro, { downloadFile, request, uploadFile } from '@tarojs/taro'
import type { InstalledRelay } from './index.js'
import { install } from './index.js'

export function typeChecks(relay: InstalledRelay = install({ baseURL: 'https://api.example.com' })) {
  // `auth: false` on Taro's own option types, default and named imports, no cast.
  Taro.request({ url: '/public', auth: false })
  request<{ ok: boolean }>({ url: '/public', method: 'POST', data: { a: 1 }, auth: false }).then((res) => res.data.ok)
  Taro.uploadFile({ url: '/up', filePath: 'a', name: 'file', auth: false })
  uploadFile({ url: '/up', filePath: 'a', name: 'file', auth: true })
  Taro.downloadFile({ url: '/d', auth: false })
  downloadFile({ url: '/d', auth: false })
  // @ts-expect-error auth is a boolean
  Taro.request({ url: '/x', auth: 'no' })
  // @ts-expect-error the augmentation adds auth only, not arbitrary fields
  Taro.request({ url: '/x', authh: false })
  relay.returnAfterLogin()
  relay.uninstall()
}
