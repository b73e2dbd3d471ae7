import { useState } from 'react'
import { View, Text, Button } from '@tarojs/components'
import { useTokenRelay } from 'tokenrelay/react'
import { installedRelay } from 'tokenrelay/taro'
import { backHome, sessionLine } from '../../shared/session'

function reasonOf(err: any): string {
  return String((err && (err.code || err.errMsg || err.message)) || err)
}

/**
 * Where the relay sends the user when a session ends (`loginPage`, once however many calls failed).
 * "Log in" is the same silent login the relay does on first use (a platform code exchanged by the server,
 * nothing to type), then back to the page the user was on when the session ended.
 */
export default function Login() {
  const session = useTokenRelay()
  const [status, setStatus] = useState('idle')

  const login = async () => {
    setStatus('logging in')
    try {
      await session.login()
      setStatus('login ok')
      const relay = installedRelay()
      if (relay) relay.returnAfterLogin()
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
