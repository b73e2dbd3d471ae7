/// <reference types="miniprogram-api-typings" />
// Type-level test (checked by `tsc` in `npm test`): `auth: false` is part of wx's own option types.
import type {} from './index.js'

export function typedCalls(): void {
  wx.request({ url: '/public', auth: false })
  wx.uploadFile({ url: '/upload', filePath: 'wxfile://a', name: 'file', auth: false })
  wx.downloadFile({ url: '/file', auth: false })
  // @ts-expect-error auth is a boolean
  wx.request({ url: '/x', auth: 'no' })
}
