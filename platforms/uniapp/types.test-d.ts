/// <reference types="@dcloudio/types" />
// Type-level test (checked by `tsc` in `npm test`): `auth: false` is part of uni's own option types.
// uni.request's promisified overload is generic (`<T extends RequestOptions>`), which skips excess-property
// checks: the annotated objects and the @ts-expect-error lines are what would fail without the augmentation.
import type {} from './index.js'

export function typedCalls(): void {
  uni.request({ url: '/public', auth: false })
  uni.uploadFile({ url: '/upload', filePath: '_doc/a.png', name: 'file', auth: false })
  uni.downloadFile({ url: '/file', auth: false })
  const request: UniNamespace.RequestOptions = { url: '/public', auth: false }
  const upload: UniNamespace.UploadFileOption = { url: '/upload', filePath: '_doc/a.png', name: 'file', auth: false }
  const download: UniNamespace.DownloadFileOption = { url: '/file', auth: false }
  void [request, upload, download]
  // @ts-expect-error auth is a boolean
  uni.request({ url: '/x', auth: 'no' })
  // @ts-expect-error auth is a boolean
  uni.downloadFile({ url: '/x', auth: 1 })
}
