import { useCallback, useRef, useState } from 'react'
import { View, Text, Button } from '@tarojs/components'
import Taro, { useLoad } from '@tarojs/taro'
import { useReturnAfterLogin, useTokenRelay } from 'tokenrelay/react'
import { pendingRows, runAll, TOTAL, type ResultRow } from '../../shared/demo'
import { markRun, note, useRelayEvents } from '../../shared/events'
import { sessionLine } from '../../shared/session'

export default function Home() {
  const session = useTokenRelay()
  const events = useRelayEvents()
  const [rows, setRows] = useState<ResultRow[]>([])
  const [runs, setRuns] = useState(0)
  const running = useRef(false)
  const runCount = useRef(0)

  const start = useCallback(() => {
    if (running.current) return
    running.current = true
    runCount.current += 1
    markRun(runCount.current)
    setRows(pendingRows())
    setRuns(runCount.current)
    runAll((r) => setRows((prev) => prev.map((p) => (p.index === r.index ? r : p)))).finally(() => {
      running.current = false
    })
  }, [])

  useLoad((options) => {
    if (options && options.autorun === '1') start()
  })

  // Back from the login page (returnAfterLogin() went back to this page, kept as it was): its results are the
  // failures of the session that ended, so load them again.
  useReturnAfterLogin(({ via }) => {
    if (via !== 'navigateBack') return
    start()
    note('back after login: reloaded')
  })

  const done = rows.filter((r) => r.status !== '…').length
  return (
    <View className='page'>
      <Text id='session' className='session'>{sessionLine(session)}</Text>
      <Button id='run-all' className='btn primary' onClick={start}>Run all</Button>
      <Text className='hint'>10 requests, 1 upload and 1 download at once, through tokenrelay</Text>
      <View className='row-buttons'>
        <Button id='go-login' className='btn small' onClick={() => Taro.navigateTo({ url: '/pages/login/index' })}>Login</Button>
        <Button id='go-settings' className='btn small' onClick={() => Taro.navigateTo({ url: '/pages/settings/index' })}>Settings</Button>
      </View>
      <Text className='summary'>{`run ${runs} results ${done}/${rows.length ? TOTAL : 0}`}</Text>
      {rows.map((r) => (
        <Text key={r.index} className={`row ${r.status === 200 ? 'ok' : r.status === '…' ? 'wait' : 'bad'}`}>{r.line}</Text>
      ))}
      {events.length > 0 && <Text className='heading'>What tokenrelay did</Text>}
      {events.map((e, i) => (
        <Text key={i} className='event'>{e}</Text>
      ))}
    </View>
  )
}
