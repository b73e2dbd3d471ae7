// The rules room's classify: what an answer to a refresh or login call means, what an error thrown by the
// app's own client means, and the app's callbacks that throw. Called directly, with the clock passed in.
import { describe, expect, it } from 'vitest'
import { classifyAnswer, classifyError, configError, guard, transient } from './classify.js'
import { TokenRelayError } from './index.js'
import type { RelayRequest, RelayResponse } from './index.js'

const NOW = Date.UTC(2026, 0, 1)
const answer = (statusCode: number, data?: unknown, header?: RelayResponse['header']): RelayResponse => ({ statusCode, data, header })
const classify = (response: RelayResponse) => classifyAnswer(response, '/auth/refresh', NOW)

describe('classifyAnswer', () => {
  it.each([200, 201, 204, 299])('%i is a success', (status) => {
    expect(classify(answer(status, { accessToken: 'x' }))).toBeNull()
  })

  it.each([400, 401, 403, 404, 409, 410, 422, 499])('%i ends the session, naming the call and the status', (status) => {
    const response = answer(status)
    expect(classify(response)).toMatchObject({
      code: 'SESSION_EXPIRED',
      transient: false,
      message: `/auth/refresh answered ${status}`,
      cause: response,
    })
  })

  it.each([408, 429, 500, 503, 199, 300, 302, 399, 600])('%i is transient', (status) => {
    const response = answer(status)
    expect(classify(response)).toMatchObject({
      code: 'REFRESH_FAILED',
      transient: true,
      message: `/auth/refresh answered ${status}`,
      cause: response,
    })
  })

  it("names the body's error, and a 4xx saying temporarily_unavailable is transient", () => {
    expect(classify(answer(400, { error: 'invalid_request' }))).toMatchObject({
      code: 'SESSION_EXPIRED',
      message: '/auth/refresh answered 400 invalid_request',
    })
    expect(classify(answer(400, { error: 'temporarily_unavailable' }))).toMatchObject({
      transient: true,
      message: '/auth/refresh answered 400 temporarily_unavailable',
    })
    expect(classify(answer(400, { error: { code: 7 } }))).toMatchObject({ message: '/auth/refresh answered 400' })
  })

  it.each([200, 401, 500, 503])('invalid_grant ends the session whatever the status (%i), read from a string body too', (status) => {
    expect(classify(answer(status, { error: 'invalid_grant' }))).toMatchObject({ code: 'SESSION_EXPIRED' })
    expect(classify(answer(status, '{"error":"invalid_grant"}'))).toMatchObject({ code: 'SESSION_EXPIRED' })
  })

  it('asks isExpired only when there is a request to give it; what it throws is CONFIG_ERROR', () => {
    const request: RelayRequest = { url: '/auth/refresh' }
    const expired = () => true
    expect(classifyAnswer(answer(200), 'r', NOW, expired)).toBeNull()
    expect(classifyAnswer(answer(200), 'r', NOW, undefined, request)).toBeNull()
    expect(classifyAnswer(answer(200), 'r', NOW, expired, request)).toMatchObject({ code: 'SESSION_EXPIRED', message: 'r answered 200' })
    expect(classifyAnswer(answer(503), 'r', NOW, () => false, request)).toMatchObject({ transient: true })
    const boom = new Error('boom')
    const thrower = () => {
      throw boom
    }
    expect(() => classifyAnswer(answer(200), 'r', NOW, thrower, request)).toThrow(
      expect.objectContaining({ code: 'CONFIG_ERROR', cause: boom, message: '[tokenrelay] isExpired threw: boom' }),
    )
  })

  it('keeps the cause it is given', () => {
    const cause = new Error('client error')
    expect(classifyAnswer(answer(401), 'r', NOW, undefined, undefined, cause)?.cause).toBe(cause)
    expect(classifyAnswer(answer(503), 'r', NOW, undefined, undefined, cause)?.cause).toBe(cause)
  })

  it.each([
    ['delta seconds', '2', 2000],
    ['delta seconds with spaces', ' 3 ', 3000],
    ['an HTTP date', new Date(NOW + 5000).toUTCString(), 5000],
    ['zero', '0', undefined],
    ['a date already past', new Date(NOW - 5000).toUTCString(), undefined],
    ['a negative number', '-5', undefined],
    ['a number with a unit', '5s', undefined],
    ['several digits', '120', 120_000],
    ['a signed number (not delay-seconds)', '+5', undefined],
    ['an exponent (not delay-seconds)', '5e3', undefined],
    ['garbage', 'soon', undefined],
  ])('Retry-After as %s: %j waits %s ms', (_, value, ms) => {
    const error = classify(answer(503, undefined, { 'Retry-After': value }))
    expect(error).toMatchObject({ transient: true })
    expect(error!.retryAfterMs).toBe(ms)
  })

  it('reads Retry-After from a fetch-style Headers too, and not when it is absent', () => {
    expect(classify(answer(429, undefined, new Headers({ 'retry-after': '1' }) as never))!.retryAfterMs).toBe(1000)
    expect(classify(answer(429, undefined, { 'x-other': '1' }))!.retryAfterMs).toBeUndefined()
  })
})

describe('classifyError', () => {
  it('passes our own errors through as they are', () => {
    const ours = new TokenRelayError('REFRESH_TIMEOUT', 'slow', { transient: true })
    expect(classifyError(ours, NOW)).toBe(ours)
  })

  it.each([
    ['statusCode on the error', { statusCode: 401 }],
    ['status on the error', { status: 401 }],
    ['statusCode on its response', { response: { statusCode: 401 } }],
    ['status on its response', { response: { status: 401 } }],
  ])('finds the status as %s', (_, error) => {
    expect(classifyError(error, NOW)).toMatchObject({ code: 'SESSION_EXPIRED', message: 'refresh answered 401', cause: error })
  })

  it.each([
    ['a status of 0 (no answer)', { status: 0, message: 'network down' }],
    ['a status that is not a number', { status: '401', message: 'network down' }],
    ['a response that is not an object', { response: 'oops', message: 'network down' }],
    ['a function, whatever it carries', Object.assign(() => {}, { status: 401, message: 'network down' })],
  ])('without a usable status (%s) it is a transient failure', (_, error) => {
    expect(classifyError(error, NOW)).toMatchObject({
      code: 'REFRESH_FAILED',
      transient: true,
      message: 'refresh failed: network down',
      cause: error,
    })
  })

  it.each([
    ['data on the error', { status: 503, data: { error: 'invalid_grant' } }],
    ['data on its response', { response: { status: 503, data: { error: 'invalid_grant' } } }],
    ['body on its response (got)', { response: { statusCode: 503, body: '{"error":"invalid_grant"}' } }],
  ])('reads the body from %s', (_, error) => {
    expect(classifyError(error, NOW)).toMatchObject({ code: 'SESSION_EXPIRED', message: 'refresh answered 503 invalid_grant' })
  })

  it('prefers data on the error to data on its response', () => {
    expect(classifyError({ status: 503, data: {}, response: { status: 503, data: { error: 'invalid_grant' } } }, NOW)).toMatchObject({
      transient: true,
    })
  })

  it.each([
    ['headers on its response (axios, got)', { response: { status: 503, headers: { 'retry-after': '2' } } }],
    ['header on it (Taro, uni)', { statusCode: 503, header: { 'retry-after': '2' } }],
    ['headers on it (Alipay my)', { error: 19, status: 503, headers: { 'retry-after': '2' } }],
    ['headers on the error beside a response without any', { response: { status: 503 }, headers: { 'retry-after': '2' } }],
  ])('reads Retry-After from %s', (_, error) => {
    expect(classifyError(error, NOW)).toMatchObject({ transient: true, retryAfterMs: 2000 })
  })

  it('names what was thrown when it has no message', () => {
    expect(classifyError('boom', NOW)).toMatchObject({ transient: true, message: 'refresh failed: boom', cause: 'boom' })
    expect(classifyError(null, NOW)).toMatchObject({ transient: true, message: 'refresh failed: null' })
    expect(classifyError(new Error('socket hang up'), NOW).message).toBe('refresh failed: socket hang up')
  })
})

describe('guard, configError, transient', () => {
  it('guard returns what the callback returns, with both arguments', () => {
    expect(guard('attach', (a: number, b: number) => a + b, 1, 2)).toBe(3)
  })

  it('guard turns what the callback throws into CONFIG_ERROR naming the option; ours pass through', () => {
    const boom = new Error('boom')
    const thrown = (e: unknown) => {
      try {
        guard(
          'isExpired',
          () => {
            throw e
          },
          0,
          0,
        )
      } catch (error) {
        return error
      }
    }
    expect(thrown(boom)).toMatchObject({ code: 'CONFIG_ERROR', message: '[tokenrelay] isExpired threw: boom', cause: boom })
    expect(thrown('plain string')).toMatchObject({ message: '[tokenrelay] isExpired threw: plain string' })
    expect(thrown(undefined)).toMatchObject({ message: '[tokenrelay] isExpired threw: undefined' })
    const ours = new TokenRelayError('LOGGED_OUT', 'x')
    expect(thrown(ours)).toBe(ours)
  })

  it('configError and transient', () => {
    const cause = new Error('c')
    expect(configError('bad option', cause)).toMatchObject({
      code: 'CONFIG_ERROR',
      message: '[tokenrelay] bad option',
      cause,
      transient: false,
    })
    expect(transient('down', cause, 1500)).toMatchObject({
      code: 'REFRESH_FAILED',
      message: 'down',
      cause,
      transient: true,
      retryAfterMs: 1500,
    })
  })
})
