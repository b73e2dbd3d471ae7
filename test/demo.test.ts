// `npm run demo` is the README's main command: its scripted session must show what it claims.
import { describe, expect, it } from 'vitest'
import { runDemo } from '../demo/run.js'

describe('npm run demo', () => {
  it('plays the scripted session with the counts it prints', async () => {
    const { scenes, lanes, bands, html, text } = await runDemo()
    expect(
      scenes.map(({ refreshes, logins, fulfilled, rejected, navigations }) => ({ refreshes, logins, fulfilled, rejected, navigations })),
    ).toEqual([
      { refreshes: 0, logins: 1, fulfilled: 1, rejected: 0, navigations: 0 },
      { refreshes: 1, logins: 0, fulfilled: 22, rejected: 0, navigations: 0 },
      { refreshes: 1, logins: 0, fulfilled: 2, rejected: 0, navigations: 0 },
      { refreshes: 0, logins: 0, fulfilled: 0, rejected: 5, navigations: 1 },
      { refreshes: 1, logins: 0, fulfilled: 20, rejected: 0, navigations: 0 },
    ])
    // Scene 5: both tabs' requests met the expiry, and the second tab took the first tab's pair.
    for (const lane of lanes.filter((l) => l.scene.startsWith('H5, two tabs'))) {
      expect(lane.attempts.map((a) => [a.status, a.generation])).toEqual([
        [401, 1],
        [200, 2],
      ])
    }
    expect(text).toContain('reuse detections at the server: 0')
    // Scene 2: every caller was answered 401 with generation 1, then 2xx with generation 2.
    for (const lane of lanes.filter((l) => l.scene.startsWith('Token expired'))) {
      expect(lane.attempts.map((a) => [a.status, a.generation])).toEqual([
        [401, 1],
        [200, 2],
      ])
    }
    expect(bands.filter((b) => b.kind === 'navigation')).toHaveLength(1)
    expect(html).toContain('<svg')
    expect(html.match(/<rect[^>]+fill="#16a34a"/g)!.length).toBeGreaterThanOrEqual(25)
    expect(text).toContain('Late 401')
  })
})
