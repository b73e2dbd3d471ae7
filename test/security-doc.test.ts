// SECURITY.md names the test behind each promise: every `file` › *title* it cites must exist, so the page
// cannot drift from the suite. A title may be cut with `…` at either end (then it is matched as a part).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const root = join(import.meta.dirname, '..')
const doc = readFileSync(join(root, 'SECURITY.md'), 'utf8')

const citations: [string, string][] = []
for (const row of doc.split('\n').filter((l) => l.startsWith('|'))) {
  const proof = row.split('|').slice(-2)[0]
  for (const part of proof.split(';')) {
    const file = /`([\w./-]+\.tsx?)`/.exec(part)?.[1]
    if (!file) continue
    for (const m of part.matchAll(/\*([^*]+)\*/g)) citations.push([file, m[1].trim()])
  }
}

describe('SECURITY.md', () => {
  it('cites tests', () => {
    expect(citations.length).toBeGreaterThan(25)
  })

  it.each(citations)('%s has a test or group %j', (file, title) => {
    const text = readFileSync(join(root, file), 'utf8')
    const wanted = title.replace(/^…\s*|\s*…$/g, '')
    expect(text.includes(wanted), `${wanted} not found in ${file}`).toBe(true)
  })
})
