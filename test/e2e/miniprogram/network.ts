/**
 * `request`, `uploadFile`, `downloadFile` as real node:http exchanges (the reference server sees what a
 * device would send), sharing one in-flight limit as the platforms do (default 10, extra calls queue), each
 * answering in its platform's shape:
 *   wx: `success` for EVERY status `{data, statusCode, header, cookies, errMsg}`, `fail` only on network
 *       error (`request:fail abort|timeout|...`); the call returns a task (`abort`, `onHeadersReceived`).
 *   my: 2xx → `success {data, status, headers}`; non-2xx → `fail {error: 19, errorMessage, status, data,
 *       headers}`; JSON decode failure on 2xx → `fail {error: 14}`; network 12, timeout 13, abort 9.
 *       Options take `headers` (and `header`); the default body type is a form, not JSON.
 *   uploadFile: success `{data: STRING, statusCode}` for any status (multipart, the file read from the
 *   simulated file system); Alipay requires `fileName` and `fileType`. downloadFile: success
 *   `{tempFilePath, statusCode}` for any status (Alipay also `apFilePath`), body written to a temp file.
 */
import * as fs from 'node:fs'
import * as http from 'node:http'
import * as https from 'node:https'
import * as path from 'node:path'
import { randomBytes } from 'node:crypto'
import type { FileSystem } from './files'
import type { Sandbox } from './sandbox'
import type { HttpRecord } from './types'

interface NetTask {
  start(): void
  abort(reason?: string): void
}

type Delivered =
  { status: number; headers: Record<string, string>; body: Buffer } | { error: 'abort' | 'timeout' | 'network'; message: string }

export class Network {
  /** Every exchange, in the order the program made them. */
  readonly http: HttpRecord[] = []
  /** Highest number of exchanges in flight at once (the limit caps it). */
  maxSeen = 0
  private active = 0
  private queue: NetTask[] = []
  private live = new Set<NetTask>()

  constructor(
    private readonly sb: Sandbox,
    private readonly files: FileSystem,
  ) {}

  /** Exchanges in flight or queued. */
  get pending(): number {
    return this.active + this.queue.length
  }

  /** close(): every exchange is dropped without a callback (the program is going away). */
  abortAll(): void {
    for (const task of [...this.live]) task.abort('closed')
    this.queue.length = 0
  }

  private enqueue(task: NetTask): void {
    this.live.add(task)
    const limit = this.sb.opts.maxInFlight ?? 10
    if (this.active < limit) this.begin(task)
    else this.queue.push(task)
  }

  private begin(task: NetTask): void {
    this.active += 1
    this.maxSeen = Math.max(this.maxSeen, this.active)
    task.start()
  }

  private release(task: NetTask, started: boolean): void {
    this.live.delete(task)
    const i = this.queue.indexOf(task)
    if (i >= 0) this.queue.splice(i, 1)
    if (started) {
      this.active -= 1
      const next = this.queue.shift()
      if (next && !this.sb.closed) this.begin(next)
    }
  }

  /**
   * One HTTP exchange with abort/timeout; `deliver` turns the outcome into the platform's callbacks.
   * Returns the platform task object (abort, onHeadersReceived).
   */
  private exchange(
    kind: HttpRecord['kind'],
    req: { url: string; method: string; headers: Record<string, string>; body?: Buffer; timeoutMs: number },
    deliver: (outcome: Delivered) => void,
  ): Record<string, any> {
    const sb = this.sb
    const record: HttpRecord = { kind, method: req.method, url: req.url, headers: { ...req.headers }, startedAt: Date.now() }
    this.http.push(record)
    const headerListeners = new Set<(r: unknown) => void>()
    let started = false
    let done = false
    let clientReq: http.ClientRequest | null = null
    let timer: NodeJS.Timeout | null = null
    const finish = (outcome: Delivered) => {
      if (done) return
      done = true
      if (timer) clearTimeout(timer)
      record.endedAt = Date.now()
      if ('status' in outcome) record.status = outcome.status
      else record.error = outcome.error === 'network' ? outcome.message : outcome.error
      this.release(task, started)
      if (!sb.closed) deliver(outcome)
    }
    const task: NetTask = {
      start: () => {
        started = true
        let target: URL
        try {
          target = new URL(req.url)
        } catch {
          setImmediate(() => finish({ error: 'network', message: `invalid url ${req.url}` }))
          return
        }
        const lib = target.protocol === 'https:' ? https : http
        const headers: Record<string, string> = { ...req.headers }
        if (req.body && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length'))
          headers['Content-Length'] = String(req.body.length)
        timer = setTimeout(() => {
          clientReq?.destroy()
          finish({ error: 'timeout', message: 'timeout' })
        }, req.timeoutMs)
        clientReq = lib.request(target, { method: req.method, headers, agent: false }, (res) => {
          const resHeaders = rawHeaderObject(res.rawHeaders)
          for (const cb of headerListeners)
            sb.guard(() => cb(sb.toRealm({ header: resHeaders, headers: resHeaders, statusCode: res.statusCode })))
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () => finish({ status: res.statusCode || 0, headers: resHeaders, body: Buffer.concat(chunks) }))
          res.on('error', (e) => finish({ error: 'network', message: e.message }))
        })
        clientReq.on('error', (e: NodeJS.ErrnoException) => finish({ error: 'network', message: e.code || e.message }))
        if (req.body) clientReq.write(req.body)
        clientReq.end()
      },
      abort: (reason = 'abort') => {
        if (done) return
        clientReq?.destroy()
        if (reason === 'closed') {
          done = true
          if (timer) clearTimeout(timer)
          record.error = 'closed'
          this.release(task, started)
          return
        }
        // The platforms report an abort asynchronously, through fail.
        setImmediate(() => finish({ error: 'abort', message: 'abort' }))
      },
    }
    this.enqueue(task)
    return {
      abort: () => task.abort(),
      onHeadersReceived: (cb: (r: unknown) => void) => {
        headerListeners.add(cb)
      },
      offHeadersReceived: (cb: (r: unknown) => void) => {
        headerListeners.delete(cb)
      },
      onProgressUpdate: () => {},
      offProgressUpdate: () => {},
      onChunkReceived: () => {},
      offChunkReceived: () => {},
    }
  }

  private failFor(api: string, outcome: { error: string; message: string }): Record<string, any> {
    if (this.sb.platform !== 'my') {
      const reason = outcome.error === 'abort' ? 'abort' : outcome.error === 'timeout' ? 'timeout' : outcome.message
      // Douyin adds a numeric errNo to every failure.
      const errNo =
        this.sb.platform === 'tt' ? { errNo: outcome.error === 'abort' ? 21102 : outcome.error === 'timeout' ? 21103 : 21100 } : {}
      return this.sb.toRealm({ errMsg: `${api}:fail ${reason}`, ...errNo })
    }
    const code = outcome.error === 'abort' ? 9 : outcome.error === 'timeout' ? 13 : 12
    const message = outcome.error === 'abort' ? `${api}:fail abort` : outcome.error === 'timeout' ? 'timeout' : 'network error'
    return this.sb.toRealm({ error: code, errorMessage: message, errMsg: message })
  }

  private timeoutOf(o: Record<string, any>): number {
    return o.timeout || this.sb.opts.timeoutMs || 60_000
  }

  request(o: Record<string, any>): Record<string, any> {
    const { sb } = this
    const p = sb.platform
    o = o || {}
    const method = String(o.method || 'GET').toUpperCase()
    // Alipay takes `headers` (newer clients also `header`); wx takes `header`.
    const given = (p === 'my' ? { ...(o.header || {}), ...(o.headers || {}) } : { ...(o.header || {}) }) as Record<string, unknown>
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries(given)) headers[k] = String(v)
    const ctype = Object.entries(headers).find(([k]) => k.toLowerCase() === 'content-type')
    // Defaults differ: wx sends JSON, Alipay a form (Taro and uni set JSON themselves on Alipay).
    if (!ctype && method !== 'GET') headers['content-type'] = p !== 'my' ? 'application/json' : 'application/x-www-form-urlencoded'
    let url = String(o.url || '')
    let body: Buffer | undefined
    const data = o.data
    if (method === 'GET' || method === 'HEAD') {
      if (data && typeof data === 'object' && !isBinary(data)) {
        const qs = Object.entries(data)
          .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
          .join('&')
        if (qs) url += (url.includes('?') ? '&' : '?') + qs
      } else if (typeof data === 'string' && data) {
        url += (url.includes('?') ? '&' : '?') + data
      }
    } else if (data != null) {
      const type = (ctype ? ctype[1] : headers['content-type']).toLowerCase()
      if (isBinary(data)) body = Buffer.from(data as ArrayBuffer)
      else if (typeof data === 'string') body = Buffer.from(data)
      else if (type.includes('x-www-form-urlencoded')) {
        body = Buffer.from(
          Object.entries(data)
            .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
            .join('&'),
        )
      } else body = Buffer.from(JSON.stringify(data))
    }
    const dataType = o.dataType === undefined ? 'json' : String(o.dataType)
    const responseType = String(o.responseType || 'text')
    return this.exchange('request', { url, method, headers, body, timeoutMs: this.timeoutOf(o) }, (outcome) => {
      if (!('status' in outcome)) {
        sb.settle(o, false, this.failFor('request', outcome))
        return
      }
      const { status, headers: resHeaders, body: resBody } = outcome
      let parsed: unknown
      let decodeError = false
      if (responseType === 'arraybuffer' || dataType === 'arraybuffer') parsed = new sb.realm.Uint8Array(resBody).buffer
      else {
        const text = resBody.toString('utf8')
        parsed = text
        if (dataType === 'json') {
          try {
            parsed = sb.realm.JSON.parse(text)
          } catch {
            decodeError = true // wx keeps the string; Alipay fails with error 14 (below)
          }
        }
      }
      if (p !== 'my') {
        const cookies = Object.entries(resHeaders)
          .filter(([k]) => k.toLowerCase() === 'set-cookie')
          .map(([, v]) => v)
        const res = { data: parsed, statusCode: status, header: sb.toRealm(resHeaders), cookies: sb.toRealm(cookies), errMsg: 'request:ok' }
        sb.settle(o, true, res)
        return
      }
      const modern = sb.opts.alipayModernFields ? { statusCode: status, header: sb.toRealm(resHeaders) } : {}
      if (status < 200 || status > 299) {
        sb.settle(o, false, {
          error: 19,
          errorMessage: 'http status error',
          status,
          data: parsed,
          headers: sb.toRealm(resHeaders),
          ...modern,
        })
      } else if (decodeError) {
        sb.settle(o, false, {
          error: 14,
          errorMessage: 'JSON parse data error',
          status,
          data: parsed,
          headers: sb.toRealm(resHeaders),
          ...modern,
        })
      } else {
        sb.settle(o, true, { data: parsed, status, headers: sb.toRealm(resHeaders), ...modern })
      }
    })
  }

  uploadFile(o: Record<string, any>): Record<string, any> {
    const { sb } = this
    const p = sb.platform
    o = o || {}
    const fieldName = p === 'my' ? (o.fileName ?? o.name) : o.name
    const invalid = !o.url
      ? 'url'
      : !o.filePath
        ? 'filePath'
        : !fieldName
          ? p === 'my'
            ? 'fileName'
            : 'name'
          : p === 'my' && !o.fileType
            ? 'fileType'
            : null
    if (invalid) {
      setImmediate(() =>
        sb.settle(
          o,
          false,
          sb.toRealm(
            p !== 'my'
              ? { errMsg: `uploadFile:fail parameter error: ${invalid} is required` }
              : { error: 2, errorMessage: `invalid parameter ${invalid}` },
          ),
        ),
      )
      return {
        abort: () => {},
        onHeadersReceived: () => {},
        offHeadersReceived: () => {},
        onProgressUpdate: () => {},
        offProgressUpdate: () => {},
      }
    }
    let file: Buffer
    try {
      file = fs.readFileSync(this.files.realPath(o.filePath))
    } catch (err) {
      setImmediate(() =>
        sb.settle(
          o,
          false,
          sb.toRealm(
            p !== 'my'
              ? { errMsg: `uploadFile:fail file not found: ${o.filePath}` }
              : { error: 12, errorMessage: `file not found: ${(err as Error).message}` },
          ),
        ),
      )
      return {
        abort: () => {},
        onHeadersReceived: () => {},
        offHeadersReceived: () => {},
        onProgressUpdate: () => {},
        offProgressUpdate: () => {},
      }
    }
    const boundary = `----tokenrelay${randomBytes(8).toString('hex')}`
    const parts: Buffer[] = []
    for (const [k, v] of Object.entries(o.formData || {})) {
      parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${String(v)}\r\n`))
    }
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${fieldName}"; filename="${path.basename(String(o.filePath))}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
      ),
    )
    parts.push(file, Buffer.from(`\r\n--${boundary}--\r\n`))
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries({ ...(o.header || {}), ...(p === 'my' ? o.headers || {} : {}) })) headers[k] = String(v)
    headers['Content-Type'] = `multipart/form-data; boundary=${boundary}`
    return this.exchange(
      'uploadFile',
      { url: String(o.url), method: 'POST', headers, body: Buffer.concat(parts), timeoutMs: this.timeoutOf(o) },
      (outcome) => {
        if (!('status' in outcome)) {
          sb.settle(o, false, this.failFor('uploadFile', outcome))
          return
        }
        // The body is a STRING on both platforms, whatever the status.
        const res =
          p !== 'my'
            ? { data: outcome.body.toString('utf8'), statusCode: outcome.status, errMsg: 'uploadFile:ok' }
            : { data: outcome.body.toString('utf8'), statusCode: outcome.status, header: sb.toRealm(outcome.headers) }
        sb.settle(o, true, res)
      },
    )
  }

  downloadFile(o: Record<string, any>): Record<string, any> {
    const { sb } = this
    const p = sb.platform
    o = o || {}
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries({ ...(o.header || {}), ...(p === 'my' ? o.headers || {} : {}) })) headers[k] = String(v)
    return this.exchange('downloadFile', { url: String(o.url || ''), method: 'GET', headers, timeoutMs: this.timeoutOf(o) }, (outcome) => {
      if (!('status' in outcome)) {
        sb.settle(o, false, this.failFor('downloadFile', outcome))
        return
      }
      // Any status lands in a file: a 401 body too.
      const ext = path.extname(new URL(String(o.url)).pathname).slice(0, 10)
      const target = o.filePath ? String(o.filePath) : this.files.newTempPath(ext)
      try {
        const real = this.files.realPath(target)
        fs.mkdirSync(path.dirname(real), { recursive: true })
        fs.writeFileSync(real, outcome.body)
      } catch (err) {
        sb.settle(
          o,
          false,
          sb.toRealm(
            p !== 'my' ? { errMsg: `downloadFile:fail ${(err as Error).message}` } : { error: 12, errorMessage: (err as Error).message },
          ),
        )
        return
      }
      const res: Record<string, unknown> = o.filePath
        ? { filePath: target, statusCode: outcome.status }
        : { tempFilePath: target, statusCode: outcome.status }
      if (p !== 'my') res.errMsg = 'downloadFile:ok'
      else if (!o.filePath) res.apFilePath = target // older Alipay clients (and Taro's Alipay layer) read apFilePath
      sb.settle(o, true, sb.toRealm(res))
    })
  }
}

function isBinary(v: unknown): boolean {
  return v instanceof ArrayBuffer || ArrayBuffer.isView(v) || Object.prototype.toString.call(v) === '[object ArrayBuffer]'
}

/** Response headers with the server's own name case (wx and Alipay keep it), repeated names joined. */
function rawHeaderObject(raw: string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i]
    out[k] = k in out ? `${out[k]}, ${raw[i + 1]}` : raw[i + 1]
  }
  return out
}
