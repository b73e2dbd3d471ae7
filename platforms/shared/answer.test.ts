import { expect, it } from 'vitest'
import { answeredOnFail, settle } from './answer.js'

it('an answer marked as reported on fail settles as a failure with what the platform gave there; others succeed', () => {
  const plain = { statusCode: 200, data: 1 }
  const alipay = answeredOnFail({ statusCode: 403, data: 2 })
  const rejection = { status: 401, errMsg: 'request:fail' }
  const taro = answeredOnFail({ statusCode: 401, data: 3 }, rejection)
  expect(settle(plain)).toEqual({ ok: true, value: plain })
  expect(settle(alipay)).toEqual({ ok: false, value: alipay })
  expect(settle(taro).value).toBe(rejection)
  expect(settle({ ...alipay })).toEqual({ ok: true, value: alipay }) // the mark is the object's, not its shape's
})
