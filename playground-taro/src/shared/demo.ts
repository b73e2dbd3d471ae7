import Taro from '@tarojs/taro'
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

// weapp resolves every status with `statusCode`; Taro's Alipay layer rejects non-2xx with `status`.
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
  if (process.env.TARO_ENV === 'h5') {
    return URL.createObjectURL(new Blob([text], { type: 'text/plain' }))
  }
  if (process.env.TARO_ENV === 'alipay') {
    const path = `${my.env.USER_DATA_PATH}/tokenrelay-upload.txt`
    my.getFileSystemManager().writeFileSync({ filePath: path, data: text, encoding: 'utf8' })
    return path
  }
  if (process.env.TARO_ENV === 'tt') {
    // Douyin's file system API has wx's shape; Taro maps both calls to `tt`.
    const path = `${Taro.env.USER_DATA_PATH}/tokenrelay-upload.txt`
    Taro.getFileSystemManager().writeFileSync(path, text, 'utf8')
    return path
  }
  const path = `${wx.env.USER_DATA_PATH}/tokenrelay-upload.txt`
  wx.getFileSystemManager().writeFileSync(path, text, 'utf8')
  return path
}

/**
 * Fires 10 concurrent GETs, one upload and one download at once, reporting each result as it lands.
 * No token handling here on purpose: tokenrelay is installed around these calls by the build plugin.
 */
export function runAll(onRow: (r: ResultRow) => void): Promise<void> {
  const api = apiBase()
  const jobs: Promise<void>[] = []
  for (let i = 0; i < REQUEST_COUNT; i++) {
    jobs.push(
      Taro.request({ url: `${api}/api/item/${i}`, method: 'GET' }).then(
        (res: any) => onRow(row(i, 'request', statusOf(res), generationOf(res.data))),
        (err: any) => onRow(row(i, 'request', statusOf(err), generationOf(err && err.data), statusOf(err) === 'ERR' ? errorNote(err) : undefined)),
      ),
    )
  }
  const up = REQUEST_COUNT
  jobs.push(
    Promise.resolve()
      .then(() => Taro.uploadFile({
        url: `${api}/api/upload`,
        filePath: makeUploadFile(),
        name: 'file',
        formData: { purpose: 'playground' },
        // Alipay requires a file type; other platforms ignore it.
        fileType: 'image',
      } as any))
      .then(
        (res: any) => onRow(row(up, 'upload', statusOf(res), generationOf(res.data))),
        (err: any) => onRow(row(up, 'upload', statusOf(err), '-', errorNote(err))),
      ),
  )
  const down = REQUEST_COUNT + 1
  jobs.push(
    Taro.downloadFile({ url: `${api}/api/download/demo.bin` }).then(
      (res: any) => onRow(row(down, 'download', res.tempFilePath ? statusOf(res) : 'ERR', '-')),
      (err: any) => onRow(row(down, 'download', statusOf(err), '-', errorNote(err))),
    ),
  )
  return Promise.all(jobs).then(() => undefined)
}
