import { useCallback, useRef, useState } from 'react'
import { View, Text, Button } from '@tarojs/components'
import Taro, { useLoad } from '@tarojs/taro'
import { pendingRows, runAll, TOTAL, type ResultRow } from '../../shared/demo'

export default function Home() {
  const [rows, setRows] = useState<ResultRow[]>([])
  const [runs, setRuns] = useState(0)
  const running = useRef(false)

  const start = useCallback(() => {
    if (running.current) return
    running.current = true
    setRows(pendingRows())
    setRuns((n) => n + 1)
    runAll((r) => setRows((prev) => prev.map((p) => (p.index === r.index ? r : p)))).finally(() => {
      running.current = false
    })
  }, [])

  useLoad((options) => {
    if (options && options.autorun === '1') start()
  })

  const done = rows.filter((r) => r.status !== '…').length
  return (
    <View className='page'>
      <Button id='run-all' className='btn' onClick={start}>Run all</Button>
      <Button id='go-login' className='btn' onClick={() => Taro.navigateTo({ url: '/pages/login/index' })}>Login</Button>
      <Button id='go-settings' className='btn' onClick={() => Taro.navigateTo({ url: '/pages/settings/index' })}>Settings</Button>
      <Text className='summary'>{`run ${runs} results ${done}/${rows.length ? TOTAL : 0}`}</Text>
      {rows.map((r) => (
        <Text key={r.index} className='row'>{r.line}</Text>
      ))}
    </View>
  )
}
