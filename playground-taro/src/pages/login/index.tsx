import { useState } from 'react'
import { View, Text, Button } from '@tarojs/components'
import Taro from '@tarojs/taro'
import { apiBase } from '../../shared/api'

/** Where the placeholder login keeps its answer; the library will own token storage later. */
export const SESSION_KEY = 'playground.session'

async function loginCode(): Promise<string> {
  // wx.login / my.getAuthCode (Taro maps login → getAuthCode on Alipay); H5 has no platform login.
  // Codes are single use on the reference server: make each H5 one unique.
  if (process.env.TARO_ENV === 'h5') return `code-alice-h5${Date.now().toString(36)}`
  const res = await Taro.login()
  return res.code
}

export default function Login() {
  const [status, setStatus] = useState('idle')

  const login = async () => {
    setStatus('logging in')
    try {
      const code = await loginCode()
      const res: any = await Taro.request({
        url: `${apiBase()}/auth/login`,
        method: 'POST',
        header: { 'content-type': 'application/json' },
        data: { code },
      })
      Taro.setStorageSync(SESSION_KEY, res.data)
      setStatus(`login ${res.statusCode}`)
    } catch (err: any) {
      setStatus(`login failed ${err && (err.status || err.statusCode || err.errMsg || err.message)}`)
    }
  }

  return (
    <View className='page'>
      <Button id='login' className='btn' onClick={login}>Log in</Button>
      <Text className='summary'>{status}</Text>
    </View>
  )
}
