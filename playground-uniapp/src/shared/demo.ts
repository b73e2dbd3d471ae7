import { apiBase } from './api'

export type ResultKind = 'request' | 'upload' | 'download'

export interface ResultRow {
  index: number
  kind: ResultKind
  /** HTTP status, or 'ERR' when the call failed without one, or '…' while pending. */
  status: number | string
  /** `generation` field of the JSON answer ('-' when there is none, e.g. a download). */
  generation: string
  /** One rendered line; test/e2e matches it on every platform: `#3 request 200 gen=1`. */
  line: string
}

export const REQUEST_COUNT = 10
export const TOTAL = REQUEST_COUNT + 2

export function pendingRows(): ResultRow[] {
  const rows: ResultRow[] = []
  for (let i = 0; i < TOTAL; i++) {
    const kind: ResultKind = i < REQUEST_COUNT ? 'request' : i === REQUEST_COUNT ? 'upload' : 'download'
    rows.push(row(i, kind, '…', '-'))
  }
  return rows
}

function row(index: number, kind: ResultKind, status: number | string, generation: string, note?: string): ResultRow {
  const line = `#${index} ${kind} ${status} gen=${generation}${note ? ` (${note})` : ''}`
  return { index, kind, status, generation, line }
}

// mp-weixin and H5 answer every status on `success`; on mp-alipay uni sends non-2xx to `fail`
// (with `statusCode` after its renaming, `status` on older paths).
function statusOf(res: any): number | string {
  if (res && typeof res.statusCode === 'number') return res.statusCode
  if (res && typeof res.status === 'number') return res.status
  return 'ERR'
}

// uploadFile answers with a STRING body on every platform.
function generationOf(data: any): string {
  let body = data
  if (typeof body === 'string') {
    try { body = JSON.parse(body) } catch { return '-' }
  }
  return body && body.generation != null ? String(body.generation) : '-'
}

function errorNote(err: any): string {
  if (!err) return 'error'
  return String(err.errMsg || err.errorMessage || err.message || (err.error != null ? `error ${err.error}` : 'error'))
}

/** A small file to upload: a temp file on mini programs, a Blob URL on H5. */
function makeUploadFile(): string {
  const text = 'tokenrelay playground upload\n'
  let path = ''
  // #ifdef H5
  path = URL.createObjectURL(new Blob([text], { type: 'text/plain' }))
  // #endif
  // #ifdef MP-WEIXIN
  path = `${wx.env.USER_DATA_PATH}/tokenrelay-upload.txt`
  wx.getFileSystemManager().writeFileSync(path, text, 'utf8')
  // #endif
  // #ifdef MP-ALIPAY
  path = `${my.env.USER_DATA_PATH}/tokenrelay-upload.txt`
  my.getFileSystemManager().writeFileSync({ filePath: path, data: text, encoding: 'utf8' })
  // #endif
  // #ifdef MP-TOUTIAO
  path = `${tt.env.USER_DATA_PATH}/tokenrelay-upload.txt`
  tt.getFileSystemManager().writeFileSync(path, text, 'utf8')
  // #endif
  return path
}

// STATIC `uni.x(...)` calls: the H5 build rewrites those into imports. Both calling styles go through
// tokenrelay's interceptor: even requests pass callbacks, odd ones use the promise uni returns without them
// (it rejects where the callback style calls `fail`: non-2xx on mp-alipay).
function request(url: string, i: number): Promise<any> {
  if (i % 2) return uni.request({ url, method: 'GET' }) as unknown as Promise<any>
  return new Promise((resolve, reject) => {
    uni.request({ url, method: 'GET', success: resolve, fail: reject })
  })
}

function uploadFile(url: string, filePath: string): Promise<any> {
  return new Promise((resolve, reject) => {
    uni.uploadFile({
      url,
      filePath,
      name: 'file',
      formData: { purpose: 'playground' },
      // Alipay requires a file type; other platforms ignore it.
      fileType: 'image',
      success: resolve,
      fail: reject,
    } as UniApp.UploadFileOption)
  })
}

function downloadFile(url: string): Promise<any> {
  return new Promise((resolve, reject) => {
    uni.downloadFile({ url, success: resolve, fail: reject })
  })
}

/**
 * Fires 10 concurrent GETs, one upload and one download at once, reporting each result as it lands.
 * No token handling here on purpose: tokenrelay is installed around these calls by `app.use(TokenRelay, …)`,
 * which the Vite plugin in vite.config.ts adds to src/main.ts.
 */
export function runAll(onRow: (r: ResultRow) => void): Promise<void> {
  const api = apiBase()
  const jobs: Promise<void>[] = []
  for (let i = 0; i < REQUEST_COUNT; i++) {
    jobs.push(
      request(`${api}/api/item/${i}`, i).then(
        (res) => onRow(row(i, 'request', statusOf(res), generationOf(res.data))),
        (err) => onRow(row(i, 'request', statusOf(err), generationOf(err && err.data), statusOf(err) === 'ERR' ? errorNote(err) : undefined)),
      ),
    )
  }
  const up = REQUEST_COUNT
  jobs.push(
    Promise.resolve()
      .then(() => uploadFile(`${api}/api/upload`, makeUploadFile()))
      .then(
        (res) => onRow(row(up, 'upload', statusOf(res), generationOf(res.data))),
        (err) => onRow(row(up, 'upload', statusOf(err), '-', errorNote(err))),
      ),
  )
  const down = REQUEST_COUNT + 1
  jobs.push(
    downloadFile(`${api}/api/download/demo.bin`).then(
      (res) => onRow(row(down, 'download', res.tempFilePath ? statusOf(res) : 'ERR', '-')),
      (err) => onRow(row(down, 'download', statusOf(err), '-', errorNote(err))),
    ),
  )
  return Promise.all(jobs).then(() => undefined)
}
