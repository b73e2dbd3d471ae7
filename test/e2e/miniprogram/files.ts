/**
 * The simulated file system: `USER_DATA_PATH` (`wxfile://usr`, Alipay `https://usr`, Douyin `ttfile://user`) and temp files
 * (`wxfile://…`, `https://resource/…`) map onto a temp dir of this load, which close() removes, so uploads
 * read and downloads write real files without leaving the sandbox.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import type { Sandbox } from './sandbox'

export const WX_USER_DATA = 'wxfile://usr'
export const MY_USER_DATA = 'https://usr'
export const TT_USER_DATA = 'ttfile://user'

export class FileSystem {
  readonly root: string
  private fileSeq = 0

  constructor(private readonly sb: Sandbox) {
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), `tokenrelay-mp-${sb.platform}-`))
    fs.mkdirSync(path.join(this.root, 'usr'))
    fs.mkdirSync(path.join(this.root, 'tmp'))
  }

  /** Real path of a simulated file path; throws for anything else or a path escaping the sandbox. */
  realPath(virtualPath: string): string {
    const v = String(virtualPath)
    const map: Array<[string, string]> = [
      [`${WX_USER_DATA}/`, 'usr'],
      [`${MY_USER_DATA}/`, 'usr'],
      [`${TT_USER_DATA}/`, 'usr'],
      ['wxfile://', 'tmp'],
      ['ttfile://', 'tmp'],
      ['https://resource/', 'tmp'],
    ]
    for (const [prefix, sub] of map) {
      if (v.startsWith(prefix)) {
        const rel = v.slice(prefix.length)
        const resolved = path.resolve(this.root, sub, rel)
        if (!resolved.startsWith(path.join(this.root, sub))) throw new Error(`path escapes the sandbox: ${v}`)
        return resolved
      }
    }
    throw new Error(`not a simulated file path: ${v}`)
  }

  /** A new temp file path in the platform's form (downloadFile without `filePath`). */
  newTempPath(ext: string): string {
    this.fileSeq += 1
    const name = `tmp_${Date.now().toString(36)}${this.fileSeq}${ext}`
    return this.sb.platform === 'my' ? `https://resource/apml${name}` : `${this.sb.platform}file://${name}`
  }

  /** `wx.getFileSystemManager()` / `my.getFileSystemManager()`. */
  manager(): Record<string, any> {
    const p = this.sb.platform
    const toRealm = <T>(v: T) => this.sb.toRealm(v)
    // wx takes positional arguments; Alipay takes one object. Both shapes are accepted on both.
    const arg = (a: any, key: string, pos: unknown) => (a && typeof a === 'object' && !Buffer.isBuffer(a) ? a[key] : pos)
    const fail = (name: string, err: unknown) =>
      toRealm(
        p !== 'my'
          ? { errMsg: `${name}:fail ${(err as Error).message}` }
          : { error: 10022, errorMessage: (err as Error).message, success: false },
      )
    const wrap = <T>(name: string, fn: () => T) => {
      try {
        return fn()
      } catch (err) {
        throw fail(name, err)
      }
    }
    return {
      writeFileSync: (a: any, data?: unknown, encoding?: string) =>
        wrap('writeFileSync', () => {
          const file = this.realPath(arg(a, 'filePath', a))
          const body = arg(a, 'data', data)
          const enc = (arg(a, 'encoding', encoding) || 'utf8') as BufferEncoding
          fs.mkdirSync(path.dirname(file), { recursive: true })
          fs.writeFileSync(file, typeof body === 'string' ? Buffer.from(body, enc) : Buffer.from(body as ArrayBuffer))
          return p === 'my' ? toRealm({ success: true }) : undefined
        }),
      readFileSync: (a: any, encoding?: string) =>
        wrap('readFileSync', () => {
          const buf = fs.readFileSync(this.realPath(arg(a, 'filePath', a)))
          const enc = arg(a, 'encoding', encoding) as BufferEncoding | undefined
          const content = enc ? buf.toString(enc) : new this.sb.realm.Uint8Array(buf).buffer
          return p === 'my' ? { data: content } : content
        }),
      accessSync: (a: any) =>
        wrap('accessSync', () => {
          fs.accessSync(this.realPath(arg(a, 'path', a)))
          return p === 'my' ? toRealm({ success: true }) : undefined
        }),
      unlinkSync: (a: any) =>
        wrap('unlinkSync', () => {
          fs.unlinkSync(this.realPath(arg(a, 'filePath', a)))
          return p === 'my' ? toRealm({ success: true }) : undefined
        }),
      mkdirSync: (a: any, recursive?: boolean) =>
        wrap('mkdirSync', () => {
          fs.mkdirSync(this.realPath(arg(a, 'dirPath', a)), { recursive: !!arg(a, 'recursive', recursive) })
          return p === 'my' ? toRealm({ success: true }) : undefined
        }),
      readdirSync: (a: any) =>
        wrap('readdirSync', () => {
          const files = fs.readdirSync(this.realPath(arg(a, 'dirPath', a)))
          return toRealm(p === 'my' ? { files } : files)
        }),
    }
  }

  remove(): void {
    fs.rmSync(this.root, { recursive: true, force: true })
  }
}
