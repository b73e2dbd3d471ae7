// Simulated `wx`, `my` and `tt` globals for adapter tests. Every network call is real HTTP to the given URL
// (the reference server on 127.0.0.1); only the platform's calling conventions are imitated, the same
// ones the e2e harness simulates in full (test/e2e/miniprogram/network.ts and storage.ts): wx reports
// every HTTP answer on `success`; Alipay sends non-2xx to `fail` with `error: 19`, uses
// `headers`/`status`, and object-style storage; Douyin's `tt` is wx's with an `errNo` beside `errMsg` on
// every failure and `tt.login` as documented (`code` only for a user logged in to the host; for one who is
// not, `force: true` opens the host's login popup).
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'

type Obj = Record<string, any>
interface Raw {
  status: number
  headers: Record<string, string>
  body: Buffer
}

const tempDir = mkdtempSync(join(tmpdir(), 'tokenrelay-mini-'))

function send(url: string, method: string, headers: Obj, body: Buffer | undefined, onReq: (r: http.ClientRequest) => void): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => {
        const h: Record<string, string> = {}
        for (const [k, v] of Object.entries(res.headers)) h[k] = Array.isArray(v) ? v.join(', ') : String(v)
        resolve({ status: res.statusCode || 0, headers: h, body: Buffer.concat(chunks) })
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    onReq(req)
    req.end(body)
  })
}

function encodeBody(method: string, url: string, header: Obj, data: unknown): { url: string; body?: Buffer } {
  if (data == null) return { url }
  if (method === 'GET') {
    const q = typeof data === 'string' ? data : new URLSearchParams(data as Obj).toString()
    return { url: url + (url.includes('?') ? '&' : '?') + q }
  }
  if (typeof data === 'string') return { url, body: Buffer.from(data) }
  if (!Object.keys(header).some((k) => k.toLowerCase() === 'content-type')) header['content-type'] = 'application/json'
  return { url, body: Buffer.from(JSON.stringify(data)) }
}

function multipart(name: string, filePath: string, formData: Obj = {}): { body: Buffer; type: string } {
  const boundary = '----tokenrelay' + randomBytes(8).toString('hex')
  const parts: Buffer[] = []
  for (const [k, v] of Object.entries(formData)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`))
  }
  parts.push(
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${basename(filePath)}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    ),
    readFileSync(filePath),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  )
  return { body: Buffer.concat(parts), type: `multipart/form-data; boundary=${boundary}` }
}

/** A file to upload, in the simulated temp dir. */
export function tempFile(content = 'hello tokenrelay'): string {
  const p = join(tempDir, 'upload-' + randomBytes(4).toString('hex') + '.txt')
  writeFileSync(p, content)
  return p
}

/** What a network call fails with while the simulated device is offline (WeChat's wording). */
const OFFLINE = '-2:net::ERR_INTERNET_DISCONNECTED'

function taskFor(
  kind: string,
  run: (onReq: (r: http.ClientRequest) => void) => Promise<void>,
  fail: (msg: string) => void,
  life: { online: boolean },
) {
  let req: http.ClientRequest | undefined
  let aborted = false
  const headerListeners: ((r: Obj) => void)[] = []
  // Offline: the call fails without reaching the network, as on a device in flight mode.
  const sent = life.online ? run((r) => (req = r)) : Promise.reject(new Error(OFFLINE))
  void sent.catch((e) => fail(aborted ? 'abort' : String(e.message || e)))
  return {
    abort() {
      aborted = true
      req?.destroy(new Error('abort'))
    },
    onHeadersReceived: (fn: (r: Obj) => void) => void headerListeners.push(fn),
    offHeadersReceived() {},
    onProgressUpdate() {},
    offProgressUpdate() {},
    kind,
  }
}

function navigation(log: { api: string; url: string }[], stack: { route: string; options: Obj }[]) {
  const route = (url: string) => {
    const [path, query = ''] = url.replace(/^\//, '').split('?')
    return { route: path, options: Object.fromEntries(new URLSearchParams(query)) }
  }
  return {
    navigateTo: (o: Obj) => (log.push({ api: 'navigateTo', url: o.url }), stack.push(route(o.url)), o.success?.({})),
    redirectTo: (o: Obj) => (log.push({ api: 'redirectTo', url: o.url }), stack.splice(-1, 1, route(o.url)), o.success?.({})),
    switchTab: (o: Obj) => (log.push({ api: 'switchTab', url: o.url }), stack.splice(0, stack.length, route(o.url)), o.success?.({})),
    reLaunch: (o: Obj) => (log.push({ api: 'reLaunch', url: o.url }), stack.splice(0, stack.length, route(o.url)), o.success?.({})),
    // Logged with the page it leaves, as the e2e harness does (test/e2e/miniprogram/navigation.ts).
    navigateBack(o: Obj) {
      if (stack.length <= 1) return void o.fail?.({ errMsg: 'navigateBack:fail cannot navigate back at first page.' })
      log.push({ api: 'navigateBack', url: stack[stack.length - 1].route })
      stack.splice(-Math.min(Math.max(1, o.delta || 1), stack.length - 1))
      o.success?.({})
    },
  }
}

/**
 * The app's life on a simulated platform, driven by the test: `show()` runs the `onAppShow` listeners (back from
 * the background), `setOnline()` runs the `onNetworkStatusChange` listeners; while offline every network call fails.
 * `report` is how the platform describes the network (WeChat `networkType: 'none'`, Alipay `'NOTREACHABLE'`).
 */
function appLife(report: (online: boolean) => Obj, info: (online: boolean) => Obj) {
  const shows = new Set<(r: Obj) => void>()
  const changes = new Set<(r: Obj) => void>()
  const life = {
    online: true,
    hidden: false,
    hide: () => void (life.hidden = true),
    show() {
      life.hidden = false
      for (const fn of [...shows]) fn({ path: 'pages/home/index', scene: 1001, query: {} })
    },
    setOnline(online: boolean) {
      life.online = online
      for (const fn of [...changes]) fn(report(online))
    },
    /** Listeners still registered (an uninstalled relay leaves none). */
    listeners: () => shows.size + changes.size,
  }
  const api = {
    onAppShow: (fn: (r: Obj) => void) => void shows.add(fn),
    offAppShow: (fn: (r: Obj) => void) => void shows.delete(fn),
    onAppHide() {},
    offAppHide() {},
    getNetworkType: (o: Obj) => void setTimeout(() => o.success?.(info(life.online))),
    onNetworkStatusChange: (fn: (r: Obj) => void) => void changes.add(fn),
    offNetworkStatusChange: (fn: (r: Obj) => void) => void changes.delete(fn),
  }
  return { life, api }
}

export type SimLife = ReturnType<typeof appLife>['life']

export interface SimOptions {
  user?: string
  /** Pages on the stack at start, bottom first. */
  pages?: string[]
}

/** A simulated `wx`. */
export function createWx(options: SimOptions = {}) {
  const storage = new Map<string, unknown>()
  const navigations: { api: string; url: string }[] = []
  const stack = (options.pages || ['pages/home/index']).map((p) => ({ route: p, options: {} as Obj }))
  let codes = 0
  const state = { storageFull: false, requests: 0 }
  const { life, api: lifeApi } = appLife(
    (online) => ({ isConnected: online, networkType: online ? 'wifi' : 'none' }),
    (online) => ({ networkType: online ? 'wifi' : 'none', errMsg: 'getNetworkType:ok' }),
  )
  const wx = {
    ...navigation(navigations, stack),
    ...lifeApi,
    request(o: Obj) {
      state.requests++
      const method = (o.method || 'GET').toUpperCase()
      const header = { ...(o.header || {}) }
      const { url, body } = encodeBody(method, o.url, header, o.data)
      return taskFor(
        'request',
        async (onReq) => {
          const raw = await send(url, method, header, body, onReq)
          let data: unknown = raw.body.toString()
          if ((o.dataType || 'json') === 'json') {
            try {
              data = JSON.parse(data as string)
            } catch {
              // wx hands back the string when the body is not JSON
            }
          }
          const res = { data, statusCode: raw.status, header: raw.headers, cookies: [], errMsg: 'request:ok' }
          o.success?.(res)
          o.complete?.(res)
        },
        (msg) => (o.fail?.({ errMsg: `request:fail ${msg}` }), o.complete?.({ errMsg: `request:fail ${msg}` })),
        life,
      )
    },
    uploadFile(o: Obj) {
      state.requests++
      const { body, type } = multipart(o.name, o.filePath, o.formData)
      return taskFor(
        'upload',
        async (onReq) => {
          const raw = await send(o.url, 'POST', { ...(o.header || {}), 'content-type': type }, body, onReq)
          const res = { data: raw.body.toString(), statusCode: raw.status, errMsg: 'uploadFile:ok' }
          o.success?.(res)
          o.complete?.(res)
        },
        (msg) => (o.fail?.({ errMsg: `uploadFile:fail ${msg}` }), o.complete?.({ errMsg: `uploadFile:fail ${msg}` })),
        life,
      )
    },
    downloadFile(o: Obj) {
      state.requests++
      return taskFor(
        'download',
        async (onReq) => {
          const raw = await send(o.url, 'GET', { ...(o.header || {}) }, undefined, onReq)
          const tempFilePath = join(tempDir, 'download-' + randomBytes(4).toString('hex'))
          writeFileSync(tempFilePath, raw.body)
          const res = { tempFilePath, statusCode: raw.status, errMsg: 'downloadFile:ok' }
          o.success?.(res)
          o.complete?.(res)
        },
        (msg) => (o.fail?.({ errMsg: `downloadFile:fail ${msg}` }), o.complete?.({ errMsg: `downloadFile:fail ${msg}` })),
        life,
      )
    },
    login(o: Obj) {
      setTimeout(() =>
        o.success?.({ code: `code-${options.user || 'alice'}-${++codes}-${randomBytes(3).toString('hex')}`, errMsg: 'login:ok' }),
      )
    },
    getStorageSync: (key: string) => (storage.has(key) ? storage.get(key) : ''),
    setStorageSync(key: string, value: unknown) {
      if (state.storageFull) throw new Error('setStorageSync:fail exceed storage max size 10MB')
      storage.set(key, value)
    },
    removeStorageSync: (key: string) => void storage.delete(key),
  }
  // Like the real runtime, getCurrentPages is a global, not a member of wx: stub it with this.
  return { wx, storage, navigations, stack, state, life, getCurrentPages: () => stack.slice() }
}

/** A simulated Alipay `my`: non-2xx on `fail` with `error: 19`, `headers`/`status`, object storage. */
export function createMy(options: SimOptions = {}) {
  const storage = new Map<string, unknown>()
  const navigations: { api: string; url: string }[] = []
  const stack = (options.pages || ['pages/home/index']).map((p) => ({ route: p, options: {} as Obj }))
  let codes = 0
  const state = { requests: 0, uploads: [] as Obj[] }
  const { life, api: lifeApi } = appLife(
    (online) => ({ isConnected: online, networkType: online ? 'WIFI' : 'NOTREACHABLE' }),
    (online) => ({ networkAvailable: online, networkType: online ? 'WIFI' : 'NOTREACHABLE' }),
  )
  const my = {
    ...navigation(navigations, stack),
    ...lifeApi,
    request(o: Obj) {
      state.requests++
      const method = (o.method || 'GET').toUpperCase()
      const header = { ...(o.headers || o.header || {}) }
      for (const [k, v] of Object.entries(header)) if (typeof v !== 'string') throw new Error(`header ${k} must be a string`)
      const { url, body } = encodeBody(method, o.url, header, o.data)
      return taskFor(
        'request',
        async (onReq) => {
          const raw = await send(url, method, header, body, onReq)
          let data: unknown = raw.body.toString()
          if ((o.dataType || 'json') === 'json') {
            try {
              data = JSON.parse(data as string)
            } catch {
              if (raw.status >= 200 && raw.status < 300) {
                const e = { error: 14, errorMessage: 'JSON parse error', status: raw.status, headers: raw.headers }
                return void (o.fail?.(e), o.complete?.(e))
              }
            }
          }
          if (raw.status < 200 || raw.status >= 300) {
            const e = { error: 19, errorMessage: 'http status error', status: raw.status, data, headers: raw.headers }
            return void (o.fail?.(e), o.complete?.(e))
          }
          const res = { data, status: raw.status, headers: raw.headers }
          o.success?.(res)
          o.complete?.(res)
        },
        (msg) => {
          const e = msg === 'abort' ? { error: 9, errorMessage: 'request:fail abort' } : { error: 12, errorMessage: msg }
          o.fail?.(e)
          o.complete?.(e)
        },
        life,
      )
    },
    uploadFile(o: Obj) {
      state.requests++
      state.uploads.push(o)
      if (!['image', 'video', 'audio'].includes(o.fileType)) throw new Error('my.uploadFile needs fileType')
      const { body, type } = multipart(o.fileName || o.name, o.filePath, o.formData)
      return taskFor(
        'upload',
        async (onReq) => {
          const raw = await send(o.url, 'POST', { ...(o.header || {}), 'content-type': type }, body, onReq)
          const res = { data: raw.body.toString(), statusCode: raw.status, header: raw.headers }
          o.success?.(res)
          o.complete?.(res)
        },
        (msg) => (o.fail?.({ error: 12, errorMessage: msg }), o.complete?.({ error: 12, errorMessage: msg })),
        life,
      )
    },
    downloadFile(o: Obj) {
      state.requests++
      return taskFor(
        'download',
        async (onReq) => {
          const raw = await send(o.url, 'GET', { ...(o.header || o.headers || {}) }, undefined, onReq)
          const apFilePath = join(tempDir, 'download-' + randomBytes(4).toString('hex'))
          writeFileSync(apFilePath, raw.body)
          const res = { apFilePath, tempFilePath: apFilePath, statusCode: raw.status }
          o.success?.(res)
          o.complete?.(res)
        },
        (msg) => (o.fail?.({ error: 12, errorMessage: msg }), o.complete?.({ error: 12, errorMessage: msg })),
        life,
      )
    },
    getAuthCode(o: Obj) {
      setTimeout(() => o.success?.({ authCode: `code-${options.user || 'alice'}-${++codes}-${randomBytes(3).toString('hex')}` }))
    },
    getStorageSync: (o: { key: string }) => ({ data: storage.has(o.key) ? storage.get(o.key) : null }),
    setStorageSync: (o: { key: string; data: unknown }) => void storage.set(o.key, o.data),
    removeStorageSync: (o: { key: string }) => void storage.delete(o.key),
  }
  return { my, storage, navigations, stack, state, life, getCurrentPages: () => stack.slice() }
}

/** Douyin's `tt.request` failure codes seen in `errNo` (the shape matters here, not the exact numbers). */
const TT_ERRNO: Record<string, number> = { abort: 21102, timeout: 21103 }

/**
 * A simulated Douyin `tt`: wx's conventions (every HTTP answer on `success`, key/value storage) plus
 * `errNo` beside `errMsg` on every failure, and `tt.login` as documented: `anonymousCode` always, `code`
 * only for a user logged in to the host app (`loggedInToHost`), whose absence with `force: true` opens the
 * host's login popup (recorded in `state.popups`) and fails `login:fail host login fail` when cancelled.
 */
export function createTt(options: SimOptions = {}) {
  const sim = createWx(options)
  const state = Object.assign(sim.state, { loggedInToHost: true, popups: 0, logins: [] as Obj[] })
  let codes = 0
  const withErrNo = (o: Obj) => {
    const fail = o.fail
    const complete = o.complete
    const add = (e: Obj) => (/:fail/.test(e && e.errMsg) ? { ...e, errNo: TT_ERRNO[e.errMsg.replace(/^\w+:fail /, '')] ?? 21100 } : e)
    return { ...o, fail: fail && ((e: Obj) => fail(add(e))), complete: complete && ((e: Obj) => complete(add(e))) }
  }
  const tt = {
    ...sim.wx,
    request: (o: Obj) => sim.wx.request(withErrNo(o)),
    uploadFile: (o: Obj) => sim.wx.uploadFile(withErrNo(o)),
    downloadFile: (o: Obj) => sim.wx.downloadFile(withErrNo(o)),
    login(o: Obj) {
      state.logins.push({ force: o.force })
      const anonymousCode = `anon-${randomBytes(3).toString('hex')}`
      setTimeout(() => {
        if (state.loggedInToHost) {
          const code = `code-${options.user || 'alice'}-${++codes}-${randomBytes(3).toString('hex')}`
          return o.success?.({ code, anonymousCode, isLogin: true, errMsg: 'login:ok' })
        }
        if (o.force !== false) {
          state.popups++
          return o.fail?.({ errMsg: 'login:fail host login fail', errNo: 113001 })
        }
        o.success?.({ code: '', anonymousCode, isLogin: false, errMsg: 'login:ok' })
      })
    },
  }
  return { ...sim, tt, state }
}

/** One simulated platform by the name of its global, with that global as `api` (for the framework runtimes). */
export function simulated(name: 'wx' | 'my' | 'tt', options: SimOptions = {}) {
  const sim = name === 'wx' ? createWx(options) : name === 'my' ? createMy(options) : createTt(options)
  return { ...sim, api: (sim as unknown as Record<string, Obj>)[name] }
}
