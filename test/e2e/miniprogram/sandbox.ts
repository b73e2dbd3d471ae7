/**
 * The program's realm: one `vm` context per load, whose built-ins (Object, Array, Promise, JSON) are its
 * own, with a console that records, timers that close() can clear, and error capture, so program code
 * that throws inside a callback or timer is recorded instead of crashing the test worker. Also the
 * calling convention every simulated API shares: success/fail/complete callbacks, or a promise when
 * the call gives none.
 */
import * as vm from 'node:vm'
import type { LoadMiniProgramOptions, LogRecord, MiniPlatform } from './types'

const VERBOSE = process.env.TOKENRELAY_E2E_VERBOSE === '1'

/** How a simulated API call ended: which callback fires, with what. */
export type Outcome = { ok: boolean; res: Record<string, any> }

export class Sandbox {
  readonly opts: LoadMiniProgramOptions
  readonly platform: MiniPlatform
  /** Absolute path of the compiled program. */
  readonly dir: string
  readonly ctx: vm.Context
  readonly realm: { JSON: JSON; Promise: PromiseConstructor; Array: ArrayConstructor; Uint8Array: Uint8ArrayConstructor }
  readonly logs: LogRecord[] = []
  readonly errors: unknown[] = []
  /** `wx.onError` / `my.onError` listeners: told about every error guard() catches. */
  readonly errorListeners: Array<(msg: string) => void> = []
  /** Set by close(): late network answers and navigations are dropped from then on. */
  closed = false
  private timers = new Map<number, NodeJS.Timeout>()
  private timerSeq = 0

  constructor(opts: LoadMiniProgramOptions, dir: string) {
    this.opts = opts
    this.platform = opts.platform
    this.dir = dir
    this.ctx = vm.createContext({}, { name: `miniprogram:${this.platform}` })
    this.realm = vm.runInContext('({ JSON, Promise, Array, Uint8Array })', this.ctx)
    this.installConsoleAndTimers()
  }

  /** The context's global object. */
  get global(): Record<string, any> {
    return this.ctx as Record<string, any>
  }

  private get echo(): boolean {
    return this.opts.echoConsole ?? VERBOSE
  }

  private installConsoleAndTimers(): void {
    const g = this.global
    const consoleProxy: Record<string, (...a: unknown[]) => void> = {}
    for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      consoleProxy[level] = (...args: unknown[]) => {
        const text = args.map((a) => (typeof a === 'string' ? a : safeInspect(a))).join(' ')
        this.logs.push({ level, text })
        if (this.echo) console[level](`[${this.platform}]`, ...args)
      }
    }
    g.console = consoleProxy
    g.setTimeout = (fn: unknown, ms?: number, ...args: unknown[]) => this.setTimer(fn, ms, args, false)
    g.setInterval = (fn: unknown, ms?: number, ...args: unknown[]) => this.setTimer(fn, ms, args, true)
    g.clearTimeout = g.clearInterval = (id: number) => this.clearTimer(id)
  }

  private setTimer(fn: unknown, ms: number | undefined, args: unknown[], repeat: boolean): number {
    if (typeof fn !== 'function') throw new TypeError('setTimeout: callback must be a function')
    const id = ++this.timerSeq
    const run = () => {
      if (!repeat) this.timers.delete(id)
      this.guard(() => fn(...args))
    }
    const t = repeat ? setInterval(run, ms || 0) : setTimeout(run, ms || 0)
    this.timers.set(id, t)
    return id
  }

  private clearTimer(id: number): void {
    const t = this.timers.get(id)
    if (t) {
      clearTimeout(t)
      this.timers.delete(id)
    }
  }

  /** Runs `fn` on a later macrotask, guarded, unless the program is closed (setData callbacks). */
  later(fn: () => void): void {
    if (this.closed) return
    const t = setTimeout(() => {
      this.timers.delete(id)
      this.guard(fn)
    }, 0)
    const id = ++this.timerSeq
    this.timers.set(id, t)
  }

  clearTimers(): void {
    for (const t of this.timers.values()) clearTimeout(t)
    this.timers.clear()
  }

  /** Runs program code; an exception is recorded instead of escaping into the test worker. */
  guard<T>(fn: () => T): T | undefined {
    try {
      return fn()
    } catch (err) {
      this.errors.push(err)
      this.logs.push({ level: 'error', text: `uncaught: ${safeInspect(err)}` })
      if (this.echo) console.error(`[${this.platform}] uncaught`, err)
      for (const cb of this.errorListeners) {
        try {
          cb(String((err && (err as Error).stack) || err))
        } catch {
          /* listener failure is not ours */
        }
      }
      return undefined
    }
  }

  /** Copies plain data into the program's realm (its own Object/Array prototypes). */
  toRealm<T>(value: T): T {
    if (value === undefined) return value
    return this.realm.JSON.parse(JSON.stringify(value))
  }

  /** Calls a success/fail/complete callback, then complete; returns nothing (platform style). */
  settle(o: Record<string, any> | undefined, ok: boolean, result: Record<string, any>): void {
    if (!o) return
    const res = result
    if (ok && typeof o.success === 'function') this.guard(() => o.success(res))
    if (!ok && typeof o.fail === 'function') this.guard(() => o.fail(res))
    if (typeof o.complete === 'function') this.guard(() => o.complete(res))
  }

  /** Platform promisification: no callbacks given → a promise (rejecting with the fail object). */
  asyncApi(name: string, impl: (o: Record<string, any>) => Promise<Outcome>) {
    return (o: Record<string, any> = {}) => {
      const hasCb = o && (o.success || o.fail || o.complete)
      const p = impl(o || {})
      if (hasCb) {
        p.then(
          ({ ok, res }) => this.settle(o, ok, res),
          (err) =>
            this.guard(() => {
              throw err
            }),
        )
        return undefined
      }
      return new this.realm.Promise((resolve, reject) => {
        p.then(
          ({ ok, res }) => (ok ? resolve(res) : reject(res)),
          (err) => reject(err),
        )
      })
    }
  }

  /** Poll until `check()` returns a truthy value; rejects after `timeoutMs` or once the program is closed. */
  async waitFor<T>(check: () => T, timeoutMs = 10_000, what = 'condition'): Promise<NonNullable<T>> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const v = check()
      if (v) return v as NonNullable<T>
      if (this.closed) throw new Error(`waitFor(${what}): program closed`)
      if (Date.now() > deadline) throw new Error(`waitFor(${what}) timed out after ${timeoutMs} ms`)
      await new Promise((r) => setTimeout(r, 10))
    }
  }
}

/** Resolves after one macrotask of the test process: lets the program's queued callbacks run. */
export function macrotask(): Promise<void> {
  return new Promise((r) => setTimeout(r, 0))
}

/** A value as text for logs and error messages; never throws. */
export function safeInspect(v: unknown): string {
  try {
    if (v instanceof Error || (v && typeof v === 'object' && 'stack' in (v as object))) return String((v as Error).stack || v)
    return typeof v === 'object' ? JSON.stringify(v) : String(v)
  } catch {
    return String(v)
  }
}
