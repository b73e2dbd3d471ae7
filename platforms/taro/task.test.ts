// The Taro task helpers on their own: the relayed brand, one attempt's answer (Alipay and H5 reject HTTP
// answers), abort reaching the platform promise, Taro's abort(cb)/progress(cb), and the chain's catch.
import { describe, expect, it, vi } from 'vitest'
import { createTokenRelay } from '../../src/index.js'
import type { PlatformTask } from '../shared/call.js'
import { createAbort } from '../shared/signal.js'
import type { TaroPromise } from './task.js'
import { asAnswer, chainTask, fileCall, isRelayed, markRelayed, taroTask } from './task.js'

describe('Taro task helpers', () => {
  it('markRelayed brands a function; isRelayed knows it, and only on functions', () => {
    expect(isRelayed(markRelayed(() => {}))).toBe(true)
    expect(isRelayed(() => {})).toBe(false)
    expect(isRelayed({ __tokenrelayRelayed: true })).toBe(false)
  })

  it("asAnswer resolves an HTTP answer Taro rejected, reading Alipay's headers and H5's header", async () => {
    const alipay = await asAnswer(Promise.reject({ status: 401, headers: { 'x-a': '1' }, data: 'a' }))
    expect(alipay).toMatchObject({ statusCode: 401, header: { 'x-a': '1' }, data: 'a' })
    const h5 = await asAnswer(Promise.reject({ statusCode: 401, header: { 'x-h': '1' }, headers: { ignored: '1' }, data: 'h' }))
    expect(h5).toMatchObject({ statusCode: 401, header: { 'x-h': '1' }, data: 'h' })
    const network = { errMsg: 'request:fail timeout' }
    await expect(asAnswer(Promise.reject(network))).rejects.toBe(network)
  })

  it('asAnswer forwards an abort to the platform promise, for a real AbortSignal too, and copes with a promise without abort()', async () => {
    const controller = new AbortController()
    const p = Object.assign(new Promise(() => {}), { abort: vi.fn() }) as TaroPromise
    void asAnswer(p, controller.signal)
    controller.abort()
    expect(p.abort).toHaveBeenCalledTimes(1)
    const plain = createAbort()
    void asAnswer(new Promise(() => {}), plain.signal)
    expect(() => plain.abort()).not.toThrow()
  })

  it('taroTask: abort(cb) calls cb, aborts and returns the task; progress(cb) only when asked for', () => {
    const abort = vi.fn()
    const onProgressUpdate = vi.fn()
    const task = Object.assign(Promise.resolve(), { abort, onProgressUpdate }) as unknown as Promise<unknown> & PlatformTask
    const cb = vi.fn()
    expect((taroTask(task, true).abort as (cb: () => void) => unknown)(cb)).toBe(task)
    expect(cb).toHaveBeenCalledTimes(1)
    expect(abort).toHaveBeenCalledTimes(1)
    const listener = () => {}
    expect((task.progress as (cb: unknown) => unknown)(listener)).toBe(task)
    expect(onProgressUpdate).toHaveBeenCalledWith(listener)
    expect(
      taroTask(Object.assign(Promise.resolve(), { abort }) as unknown as Promise<unknown> & PlatformTask, false).progress,
    ).toBeUndefined()
  })

  it("chainTask leaves a promise caller's catch alone", () => {
    const task = Object.assign(Promise.resolve(), { abort: vi.fn() }) as unknown as Promise<unknown> & PlatformTask
    expect(chainTask(task, false).catch).toBe(Promise.prototype.catch)
    expect(
      chainTask(Object.assign(Promise.resolve(), { abort: vi.fn() }) as unknown as Promise<unknown> & PlatformTask, true).catch,
    ).not.toBe(Promise.prototype.catch)
  })

  it('fileCall hands back a task with progress(cb)', async () => {
    const relay = createTokenRelay({ baseURL: 'https://api.test', logger: { log() {}, warn() {} } })
    const onProgressUpdate = vi.fn()
    const original = () => Object.assign(Promise.resolve({ statusCode: 200, data: 'ok' }), { abort: vi.fn(), onProgressUpdate })
    const task = fileCall(relay, 'downloadFile', original, { url: '/file' }, vi.fn())
    expect(typeof task.progress).toBe('function')
    await expect(task).resolves.toMatchObject({ statusCode: 200 })
  })
})
