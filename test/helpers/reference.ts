// The reference server's auth calls as adapter tests configure them, and a login that bypasses the
// relay (for tests that start from a session without counting on silent login).
import type { RunningServer } from '../../playground-server/server.js'
import type { Clock, Credentials, RefreshContext } from '../../src/index.js'

/** The engine's refresh strategy against the reference server. */
export const refresh = async ({ refreshToken, request }: RefreshContext) =>
  (await request({ url: '/auth/refresh', method: 'POST', data: { refreshToken } })).data as Credentials

/** Silent login: a platform code (wx.login / Taro.login / uni.login) exchanged at POST /auth/login. */
export const exchange = async (code: string, { request }: RefreshContext) =>
  (await request({ url: '/auth/login', method: 'POST', data: { code } })).data as Credentials

/** Alipay's code is an authCode (my.getAuthCode), which the server takes under that name. */
export const exchangeAuthCode = async (authCode: string, { request }: RefreshContext) =>
  (await request({ url: '/auth/login', method: 'POST', data: { authCode } })).data as Credentials

/** Logs a user in on the server directly (each code is single-use: pass a fresh one per login). */
export async function loginDirect(serverUrl: string, code = 'code-alice-direct'): Promise<Credentials> {
  const res = await fetch(`${serverUrl}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code }),
  })
  if (!res.ok) throw new Error(`login with ${code} answered ${res.status}`)
  return (await res.json()) as Credentials
}

/** A wall clock the test moves: hours in the background pass on it while no timer runs. */
export function wallClock() {
  const wall = { now: Date.now() }
  const clock: Clock = { now: () => wall.now, setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (id) => clearTimeout(id as never) }
  return { wall, clock }
}

/** 401s the reference server answered, on any route. */
export const unauthorized = (server: RunningServer) =>
  Object.values(server.stats().hits)
    .flat()
    .filter((h) => h.status === 401).length
