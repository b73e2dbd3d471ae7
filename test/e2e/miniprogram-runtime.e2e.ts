/**
 * The harness itself, on a hand-written native mini program (no build needed): the platform
 * behaviour the adapters will be tested against must be what the harness's modules say the platforms do
 * (miniprogram/network.ts, storage.ts, navigation.ts, loader.ts, pages.ts).
 */
import * as fs from 'node:fs'
import * as http from 'node:http'
import * as os from 'node:os'
import * as path from 'node:path'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { loadMiniProgram, type MiniPlatform, type MiniProgram } from './miniprogram-runtime'

let fixture: string
let server: http.Server
let base: string
const seen: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; body: string }> = []
let app: MiniProgram | undefined

/** A native program: two pages, a literal tap binding, a handler that throws. */
function writeFixture(dir: string): void {
  const files: Record<string, string> = {
    'app.json': JSON.stringify({
      pages: ['pages/index/index', 'pages/other/index', 'pages/tab/index'],
      tabBar: { list: [{ pagePath: 'pages/tab/index', text: 'Tab' }] },
    }),
    'app.js': `App({ onLaunch(o) { this.globalData = { launchedWith: o.path } } })`,
    'pages/index/index.js': `
      const util = require('../../util.js')
      Page({
        data: { taps: 0, label: util.label },
        onLoad(q) { this.setData({ query: q }) },
        onTap() { this.setData({ taps: this.data.taps + 1, 'nested.list[1]': 'x' }) },
        boom() { setTimeout(() => { throw new Error('late boom') }, 0) },
      })`,
    'pages/index/index.wxml': `<view><button id="inc" bindtap="onTap">+1</button><text>{{label}}</text></view>`,
    'pages/index/index.axml': `<view><button id="inc" onTap="onTap">+1</button><text>{{label}}</text></view>`,
    'pages/other/index.js': `Page({ data: { n: 0 }, onUnload() { getApp().unloaded = (getApp().unloaded || 0) + 1 } })`,
    'pages/tab/index.js': `Page({ data: {} })`,
    'util.js': `module.exports = { label: 'hello from util' }`,
  }
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true })
    fs.writeFileSync(path.join(dir, name), content)
  }
}

beforeAll(async () => {
  fixture = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenrelay-native-'))
  writeFixture(fixture)
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const url = new URL(req.url || '/', 'http://x')
      seen.push({ method: req.method || '', url: req.url || '', headers: req.headers, body: Buffer.concat(chunks).toString() })
      if (url.pathname === '/slow') {
        setTimeout(
          () => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}'),
          Number(url.searchParams.get('ms') || 100),
        )
        return
      }
      if (url.pathname === '/hang') return // never answers
      if (url.pathname === '/401') {
        res
          .writeHead(401, { 'WWW-Authenticate': 'Bearer error="invalid_token"', 'Content-Type': 'application/json' })
          .end('{"error":"invalid_token"}')
        return
      }
      if (url.pathname === '/text') return void res.writeHead(200, { 'Content-Type': 'text/plain' }).end('not json')
      res
        .writeHead(200, { 'Content-Type': 'application/json', 'X-Custom-Case': 'Kept' })
        .end(JSON.stringify({ ok: true, path: url.pathname }))
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterEach(async () => {
  await app?.close()
  app = undefined
  seen.length = 0
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise((r) => server.close(r))
  fs.rmSync(fixture, { recursive: true, force: true })
})

const load = async (platform: MiniPlatform, extra: Partial<Parameters<typeof loadMiniProgram>[0]> = {}) => {
  app = await loadMiniProgram({ dir: fixture, platform, ...extra })
  return app
}

/** Calls `api(options)` and resolves with which callback fired and its argument. */
function call(
  api: (o: Record<string, unknown>) => unknown,
  options: Record<string, unknown>,
): Promise<{ cb: 'success' | 'fail'; res: any; ret: unknown }> {
  return new Promise((resolve) => {
    // Declared before the call on purpose: a platform may call back synchronously, before `ret` is assigned.
    let ret: unknown
    // eslint-disable-next-line prefer-const
    ret = api({
      ...options,
      success: (res: unknown) => resolve({ cb: 'success', res, ret }),
      fail: (res: unknown) => resolve({ cb: 'fail', res, ret }),
    })
  })
}

describe('launch, pages, taps', () => {
  test('runs App.onLaunch and the entry page onLoad with its query; require works inside the program', async () => {
    const a = await load('wx', { query: { from: 'test' } })
    expect(a.appInstance.globalData).toEqual({ launchedWith: 'pages/index/index' })
    expect(a.pageData('index')).toMatchObject({ label: 'hello from util', query: { from: 'test' } })
  })

  test.each(['wx', 'my'] as const)('%s: tap dispatches the bound handler; setData paths apply', async (platform) => {
    const a = await load(platform)
    await a.tap('index', 'inc')
    await a.tap('index', 'inc')
    expect(a.pageData('index')).toMatchObject({ taps: 2, nested: { list: [null, 'x'] } })
    await expect(a.tap('index', 'missing', 100)).rejects.toThrow(/missing/)
  })

  test('errors thrown by program code land in app.errors instead of crashing the test', async () => {
    const a = await load('wx')
    await a.call('index', 'boom')
    await a.waitFor(() => a.errors.length > 0)
    expect(String(a.errors[0])).toMatch(/late boom/)
  })

  test('navigation: stack of 10, tab rules, redirect/reLaunch unload pages, all logged', async () => {
    const a = await load('wx')
    const wx = a.global.wx
    for (let i = 0; i < 9; i++) expect((await call(wx.navigateTo, { url: '/pages/other/index?i=' + i })).cb).toBe('success')
    expect(a.pages()).toHaveLength(10)
    const full = await call(wx.navigateTo, { url: '/pages/other/index' })
    expect(full).toMatchObject({ cb: 'fail', res: { errMsg: 'navigateTo:fail webview count limit exceed' } })
    expect((await call(wx.navigateTo, { url: '/pages/tab/index' })).res.errMsg).toMatch(/tabbar/)
    expect((await call(wx.redirectTo, { url: '/pages/other/index?r=1' })).cb).toBe('success')
    expect(a.appInstance.unloaded).toBe(1)
    expect(a.global.getCurrentPages().at(-1).options).toEqual({ r: '1' })
    expect((await call(wx.switchTab, { url: '/pages/tab/index' })).cb).toBe('success')
    expect(a.pages().map((p) => p.route)).toEqual(['pages/tab/index'])
    expect(a.appInstance.unloaded).toBe(10)
    expect(a.navigations.filter((n) => n.ok).map((n) => n.api)).toEqual([
      'launch',
      ...Array(9).fill('navigateTo'),
      'redirectTo',
      'switchTab',
    ])
  })
})

describe('wx network', () => {
  test('401 arrives on success with statusCode and the raw header case; the call returns a task', async () => {
    const a = await load('wx')
    const out = await call(a.global.wx.request, { url: `${base}/401`, header: { Authorization: 'Bearer A' } })
    expect(out.cb).toBe('success')
    expect(out.res).toMatchObject({ statusCode: 401, data: { error: 'invalid_token' }, errMsg: 'request:ok' })
    expect(out.res.header['WWW-Authenticate']).toBe('Bearer error="invalid_token"')
    expect(typeof (out.ret as { abort: unknown }).abort).toBe('function')
    expect(seen[0].headers.authorization).toBe('Bearer A')
  })

  test('POST sends JSON by default; GET data becomes the query; non-JSON stays a string', async () => {
    const a = await load('wx')
    await call(a.global.wx.request, { url: `${base}/p`, method: 'POST', data: { a: 1 } })
    await call(a.global.wx.request, { url: `${base}/g`, data: { q: 'x y' } })
    const text = await call(a.global.wx.request, { url: `${base}/text` })
    expect(seen[0]).toMatchObject({ method: 'POST', body: '{"a":1}' })
    expect(seen[0].headers['content-type']).toBe('application/json')
    expect(seen[1].url).toBe('/g?q=x%20y')
    expect(text.res).toMatchObject({ statusCode: 200, data: 'not json' })
  })

  test('network error, timeout and abort go to fail with errMsg', async () => {
    const a = await load('wx')
    const wx = a.global.wx
    expect((await call(wx.request, { url: 'http://127.0.0.1:1/x' })).res.errMsg).toMatch(/^request:fail /)
    expect((await call(wx.request, { url: `${base}/hang`, timeout: 100 })).res).toEqual({ errMsg: 'request:fail timeout' })
    const aborted = new Promise((resolve) => {
      const task = wx.request({ url: `${base}/hang`, fail: resolve })
      setTimeout(() => task.abort(), 20)
    })
    expect(await aborted).toEqual({ errMsg: 'request:fail abort' })
  })

  test('at most 10 calls in flight; the rest queue and all complete', async () => {
    const a = await load('wx')
    const all = Array.from({ length: 14 }, () => call(a.global.wx.request, { url: `${base}/slow?ms=80` }))
    const results = await Promise.all(all)
    expect(results.every((r) => r.cb === 'success')).toBe(true)
    expect(a.maxInFlightSeen).toBe(10)
  })

  test('uploadFile sends multipart and answers a STRING; downloadFile lands any status in a file', async () => {
    const a = await load('wx')
    const wx = a.global.wx
    const file = `${wx.env.USER_DATA_PATH}/up.txt`
    wx.getFileSystemManager().writeFileSync(file, 'payload', 'utf8')
    const up = await call(wx.uploadFile, { url: `${base}/up`, filePath: file, name: 'file', formData: { k: 'v' } })
    expect(up.res).toMatchObject({ statusCode: 200, errMsg: 'uploadFile:ok' })
    expect(typeof up.res.data).toBe('string')
    expect(seen[0].body).toContain('payload')
    expect(seen[0].body).toContain('name="k"')
    const down = await call(wx.downloadFile, { url: `${base}/401` })
    expect(down.cb).toBe('success')
    expect(down.res.statusCode).toBe(401)
    expect(down.res.tempFilePath).toMatch(/^wxfile:\/\//)
    expect(fs.readFileSync(a.realPath(down.res.tempFilePath), 'utf8')).toContain('invalid_token')
  })
})

describe('my network', () => {
  test('2xx → success {status, headers}; non-2xx → fail {error 19, status, data, headers}', async () => {
    const a = await load('my')
    const my = a.global.my
    const ok = await call(my.request, { url: `${base}/ok`, headers: { Authorization: 'Bearer A' } })
    expect(ok.cb).toBe('success')
    expect(ok.res).toMatchObject({ status: 200, data: { ok: true } })
    expect(ok.res.statusCode).toBeUndefined()
    expect(ok.res.headers['X-Custom-Case']).toBe('Kept')
    expect(seen[0].headers.authorization).toBe('Bearer A')
    const denied = await call(my.request, { url: `${base}/401` })
    expect(denied.cb).toBe('fail')
    expect(denied.res).toMatchObject({ error: 19, status: 401, data: { error: 'invalid_token' } })
    expect(denied.res.headers['WWW-Authenticate']).toBeDefined()
  })

  test('JSON decode failure on a 2xx is error 14; a POST object is a form by default', async () => {
    const a = await load('my')
    const my = a.global.my
    expect((await call(my.request, { url: `${base}/text` })).res).toMatchObject({ error: 14, status: 200 })
    await call(my.request, { url: `${base}/p`, method: 'POST', data: { a: 1, b: 'x' } })
    expect(seen.at(-1)).toMatchObject({ body: 'a=1&b=x' })
    expect(seen.at(-1)!.headers['content-type']).toBe('application/x-www-form-urlencoded')
  })

  test('abort and timeout codes; uploadFile needs fileName and fileType; download gives tempFilePath and apFilePath', async () => {
    const a = await load('my')
    const my = a.global.my
    expect((await call(my.request, { url: `${base}/hang`, timeout: 100 })).res).toMatchObject({ error: 13 })
    const aborted = new Promise<any>((resolve) => {
      const task = my.request({ url: `${base}/hang`, fail: resolve })
      setTimeout(() => task.abort(), 20)
    })
    expect(await aborted).toMatchObject({ error: 9 })
    const file = `${my.env.USER_DATA_PATH}/up.txt`
    my.getFileSystemManager().writeFileSync({ filePath: file, data: 'payload', encoding: 'utf8' })
    expect((await call(my.uploadFile, { url: `${base}/up`, filePath: file, fileName: 'file' })).res).toMatchObject({ error: 2 })
    const up = await call(my.uploadFile, { url: `${base}/up`, filePath: file, fileName: 'file', fileType: 'image' })
    expect(up.res).toMatchObject({ statusCode: 200 })
    expect(typeof up.res.data).toBe('string')
    const down = await call(my.downloadFile, { url: `${base}/x.bin` })
    expect(down.res.tempFilePath).toBe(down.res.apFilePath)
    expect(down.res.statusCode).toBe(200)
  })
})

describe('storage and login', () => {
  test('wx: positional sync API, "" for a missing key, a failing write throws', async () => {
    const a = await load('wx', { storage: { pre: { v: 1 } }, storageWriteFails: (k) => k === 'full' })
    const wx = a.global.wx
    expect(wx.getStorageSync('pre')).toEqual({ v: 1 })
    expect(wx.getStorageSync('nope')).toBe('')
    wx.setStorageSync('k', { a: [1] })
    expect(a.storage.get('k')).toEqual({ a: [1] })
    expect(() => wx.setStorageSync('full', 1)).toThrow()
    try {
      wx.setStorageSync('full', 1)
    } catch (e) {
      expect((e as { errMsg: string }).errMsg).toMatch(/^setStorageSync:fail/)
    }
  })

  test('my: object-style sync API, {data: null} for a missing key', async () => {
    const a = await load('my')
    const my = a.global.my
    my.setStorageSync({ key: 'k', data: 'v' })
    expect(my.getStorageSync({ key: 'k' })).toEqual({ data: 'v' })
    expect(my.getStorageSync({ key: 'nope' })).toEqual({ data: null })
  })

  test('wx.login → code-alice-<n>; my.getAuthCode → authCode; the promise form works too', async () => {
    const w = await load('wx')
    const c1 = await w.global.wx.login()
    expect(c1.code).toMatch(/^code-alice-\d+-/)
    await w.close()
    const m = await load('my', { user: 'bob' })
    const c2 = await call(m.global.my.getAuthCode, { scopes: 'auth_base' })
    expect(c2.res.authCode).toMatch(/^code-bob-\d+-/)
    expect(m.loginCodes).toEqual([c2.res.authCode])
  })
})
