import { useState } from 'react'
import { View, Text, Button } from '@tarojs/components'
import Taro from '@tarojs/taro'
import { useTokenRelay } from 'tokenrelay/react'
import { apiBase } from '../../shared/api'
import { backHome, sessionLine } from '../../shared/session'

/** The reference server's test controls. `auth: false`: no token, and no silent login first. */
async function control(body: Record<string, unknown>): Promise<string> {
  try {
    const res: any = await Taro.request({
      url: `${apiBase()}/__control`,
      method: 'POST',
      header: { 'content-type': 'application/json' },
      data: body,
      auth: false,
    })
    return `control ${res.statusCode}`
  } catch (err: any) {
    return `control failed ${err && (err.status || err.errMsg || err.message)}`
  }
}

export default function Settings() {
  const session = useTokenRelay()
  const [status, setStatus] = useState('idle')
  const run = (body: Record<string, unknown>, what: string) => () => {
    setStatus(`${what}…`)
    control(body).then((s) => setStatus(`${s}: ${what}`))
  }
  return (
    <View className='page'>
      <Text id='session' className='session'>{sessionLine(session)}</Text>
      <Text className='heading'>How the server says "expired"</Text>
      <Button id='mode-401' className='btn' onClick={run({ expiryMode: '401' }, 'expiry as HTTP 401')}>HTTP 401</Button>
      <Button id='mode-99997' className='btn' onClick={run({ expiryMode: '99997' }, 'expiry as body code 99997')}>HTTP 200 + body code 99997</Button>
      <Text className='heading'>Tokens</Text>
      <Button id='expire-all' className='btn' onClick={run({ expireAllNow: true }, 'access tokens expired')}>Expire all access tokens now</Button>
      <Button id='revoke' className='btn' onClick={run({ revokeUser: 'alice', expireAllNow: true }, 'session revoked')}>Revoke the session (refresh token refused)</Button>
      <Button id='go-home' className='btn' onClick={backHome}>Home</Button>
      <Text className='summary'>{status}</Text>
    </View>
  )
}
