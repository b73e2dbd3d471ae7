import { useState } from 'react'
import { View, Text, Button } from '@tarojs/components'
import Taro from '@tarojs/taro'
import { apiBase } from '../../shared/api'

async function control(body: Record<string, unknown>): Promise<string> {
  try {
    const res: any = await Taro.request({
      url: `${apiBase()}/__control`,
      method: 'POST',
      header: { 'content-type': 'application/json' },
      data: body,
    })
    return `control ${res.statusCode}`
  } catch (err: any) {
    return `control failed ${err && (err.status || err.errMsg || err.message)}`
  }
}

export default function Settings() {
  const [status, setStatus] = useState('idle')
  const run = (body: Record<string, unknown>) => () => { control(body).then(setStatus) }
  return (
    <View className='page'>
      <Button id='mode-401' className='btn' onClick={run({ expiryMode: '401' })}>Expiry as HTTP 401</Button>
      <Button id='mode-99997' className='btn' onClick={run({ expiryMode: '99997' })}>Expiry as body code 99997</Button>
      <Button id='expire-all' className='btn' onClick={run({ expireAllNow: true })}>Expire all tokens now</Button>
      <Text className='summary'>{status}</Text>
    </View>
  )
}
