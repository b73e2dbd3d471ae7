import { useState } from 'react'
import { View, Text, Button } from '@tarojs/components'
import Taro from '@tarojs/taro'
import type { Credentials } from 'tokenrelay'
import { useTokenRelay } from 'tokenrelay/react'
import { apiBase } from '../../shared/api'
import { backHome, loginCode, sessionLine } from '../../shared/session'

function reasonOf(err: any): string {
  return String((err && (err.code || err.errMsg || err.message || err.statusCode || err.status)) || err)
}

/**
 * Where the relay sends the user when a session ends (`loginPage`, once however many calls failed). The
 * recipe for any login page: your own login call → `setCredentials()` → `returnAfterLogin()`, which goes
 * back to the page the session ended on (`navigateBack` when it is right below this one).
 */
export default function Login() {
  const session = useTokenRelay()
  const [status, setStatus] = useState('idle')

  const login = async () => {
    setStatus('logging in')
    try {
      // The app's own login API (a password or phone login would post its form here). `auth: false`: this
      // call needs no token and must not wait for one.
      const res: any = await Taro.request({
        url: `${apiBase()}/auth/login`,
        method: 'POST',
        header: { 'content-type': 'application/json' },
        data: { code: await loginCode() },
        auth: false,
      })
      if (res.statusCode !== 200) throw res
      await session.setCredentials(res.data as Credentials)
      setStatus('login ok')
      session.returnAfterLogin()
    } catch (err) {
      setStatus(`login failed: ${reasonOf(err)}`)
    }
  }

  const logout = async () => {
    await session.logout()
    setStatus('logged out')
  }

  return (
    <View className='page'>
      <Text id='session' className='session'>{sessionLine(session)}</Text>
      <Button id='login' className='btn primary' onClick={login}>Log in</Button>
      <Button id='logout' className='btn' onClick={logout}>Log out</Button>
      <Button id='go-home' className='btn' onClick={backHome}>Home</Button>
      <Text className='summary'>{status}</Text>
    </View>
  )
}
