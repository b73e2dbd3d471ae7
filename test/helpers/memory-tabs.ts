// One origin's tabs in one process, for the engine's tests and the demo: a shared storage, a lock granted
// in order, and a channel whose messages reach the other tabs a tick later (never the sender).
import { shareTabs } from '../../src/index.js'
import type { SharedTabs, TabMessage } from '../../src/index.js'

export function memoryTabs() {
  const data = new Map<string, string>()
  const storage = {
    get: (k: string) => data.get(k),
    set: (k: string, v: string) => void data.set(k, v),
    remove: (k: string) => void data.delete(k),
  }
  const tabs: Array<(m: TabMessage) => void> = []
  let queue: Promise<unknown> = Promise.resolve()
  const stats = { locks: 0, posts: [] as TabMessage[] }
  /** The `crossTab` option of one more tab. */
  const crossTab = (): SharedTabs => {
    let listener: (m: TabMessage) => void = () => {}
    const me = (m: TabMessage) => listener(m)
    tabs.push(me)
    return shareTabs({
      lock(_name, _waitMs, fn) {
        stats.locks++
        const run = queue.then(fn)
        queue = run.catch(() => {})
        return run
      },
      post(message) {
        stats.posts.push(message)
        for (const tab of tabs) if (tab !== me) setTimeout(() => tab(message), 0)
      },
      listen: (fn) => ((listener = fn), () => (listener = () => {})),
    })
  }
  return { data, storage, crossTab, stats }
}
