// tokenrelay/wx on a simulated `wx` doing real HTTP to the reference server. The scenarios are the ones
// every callback-style adapter shares (test/helpers/adapter-suite.ts).
import { describe, vi } from 'vitest'
import { sharedAdapterTests, useAdapter } from '../../test/helpers/adapter-suite.js'
import { createWx } from '../../test/helpers/mini-platform.js'
import { exchange } from '../../test/helpers/reference.js'
import { install } from './index.js'

const t = useAdapter({
  name: 'wx',
  family: 'weixin',
  app: 'wx',
  install,
  load: ({ pages }) => {
    const sim = createWx({ pages })
    vi.stubGlobal('wx', sim.wx)
    // Like the real runtime, getCurrentPages is a global, not a member of wx.
    vi.stubGlobal('getCurrentPages', sim.getCurrentPages)
    return { ...sim, api: sim.wx }
  },
  exchange,
  patches: true,
  upload: { name: 'file' },
  tabBarLogin: () => ({ tabBar: ['pages/login/index'] }),
})

describe('tokenrelay/wx', () => {
  sharedAdapterTests(t)
})
