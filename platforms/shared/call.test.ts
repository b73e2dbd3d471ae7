// callThrough: the request kind per API, the task's listener methods forwarded to every attempt's platform
// task (before and after it exists), and no unhandled rejection for callers that passed callbacks.
import { describe, expect, it, vi } from 'vitest'
import { createTokenRelay } from '../../src/index.js'
import type { RelayRequest } from '../../src/index.js'
import { trackUnhandled } from '../../test/helpers/unhandled.js'
import type { PlatformTask, TaskTransport } from './call.js'
import { callThrough } from './call.js'

const API = 'https://api.test'
const quiet = { log() {}, warn() {} }
const METHODS = ['onHeadersReceived', 'offHeadersReceived', 'onProgressUpdate', 'offProgressUpdate', 'onChunkReceived', 'offChunkReceived']

/** A platform task that records the listener calls it gets; `without` names methods it lacks. */
function platformTask(without: string[] = []) {
  const calls: [string, unknown][] = []
  const task: PlatformTask = { abort: vi.fn() }
  for (const method of METHODS) if (!without.includes(method)) task[method] = (fn: unknown) => void calls.push([method, fn])
  return { task, calls }
}

describe('callThrough', () => {
  it.each([
    ['request', 'request'],
    ['uploadFile', 'upload'],
    ['downloadFile', 'download'],
  ] as const)('%s goes to the relay as kind %s', async (api, kind) => {
    const relay = createTokenRelay({ baseURL: API, logger: quiet })
    const seen: RelayRequest[] = []
    const transport: TaskTransport = async (req) => (seen.push(req), { statusCode: 200 })
    await callThrough(relay, api, { url: '/x' }, transport, vi.fn())
    expect(seen[0].kind).toBe(kind)
  })

  it("forwards every listener method to the attempt's task: those called before it existed, then the later ones", async () => {
    const relay = createTokenRelay({ baseURL: API, logger: quiet })
    const { task: platform, calls } = platformTask()
    let answer!: () => void
    const transport: TaskTransport = (_, onTask) =>
      new Promise((resolve) => {
        answer = () => resolve({ statusCode: 200 })
        setTimeout(() => onTask(platform), 0)
      })
    const task = callThrough(relay, 'downloadFile', { url: '/x' }, transport, vi.fn())
    const early = METHODS.slice(0, 3).map((method) => [method, () => method] as const)
    for (const [method, fn] of early) (task[method] as (fn: unknown) => void)(fn)
    await vi.waitUntil(() => calls.length === 3)
    const late = METHODS.slice(3).map((method) => [method, () => method] as const)
    for (const [method, fn] of late) (task[method] as (fn: unknown) => void)(fn)
    expect(calls).toEqual([...early, ...late])
    answer()
    await task
  })

  it('a listener method the platform task lacks is skipped, and the call goes on', async () => {
    const relay = createTokenRelay({ baseURL: API, logger: quiet })
    const { task: platform, calls } = platformTask(['onChunkReceived'])
    const transport: TaskTransport = async (_, onTask) => (onTask(platform), { statusCode: 200, data: 'ok' })
    const task = callThrough(relay, 'request', { url: '/x' }, transport, vi.fn())
    ;(task.onChunkReceived as (fn: () => void) => void)(() => {})
    ;(task.onHeadersReceived as (fn: () => void) => void)(() => {})
    await expect(task).resolves.toMatchObject({ statusCode: 200 })
    expect(calls.map(([m]) => m)).toEqual(['onHeadersReceived'])
  })

  it.each(['success', 'fail', 'complete'])(
    'a failure reaches a caller that passed only %s, with no unhandled rejection',
    async (callback) => {
      const unhandled = trackUnhandled()
      try {
        const relay = createTokenRelay({ baseURL: API, logger: quiet })
        const transport: TaskTransport = async () => Promise.reject({ errMsg: 'request:fail timeout' })
        const fn = vi.fn()
        callThrough(relay, 'request', { url: '/x', [callback]: fn }, transport, vi.fn())
        await unhandled.settle()
        expect(unhandled.reasons).toEqual([])
        expect(fn).toHaveBeenCalledTimes(callback === 'success' ? 0 : 1)
      } finally {
        unhandled.stop()
      }
    },
  )
})
