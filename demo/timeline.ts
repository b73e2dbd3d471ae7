// Renders the demo's recorded spans as a swimlane SVG inside a standalone HTML page.

export interface Attempt {
  start: number
  end: number
  status: number
  generation: number | null
}

export interface Lane {
  label: string
  scene: string
  start: number
  end: number
  attempts: Attempt[]
  outcome: string
}

export interface Band {
  label: string
  start: number
  end: number
  kind: 'refresh' | 'login' | 'navigation'
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!)

export interface SceneRow {
  name: string
  [count: string]: string | number
}

export function renderTimeline(title: string, lanes: Lane[], bands: Band[], scenes: SceneRow[]): string {
  const end = Math.max(1, ...lanes.map((l) => l.end), ...bands.map((b) => b.end))
  const labelW = 190
  const width = 1100
  const rowH = 16
  const top = 70
  const x = (t: number) => labelW + (t / end) * (width - labelW - 20)
  const height = top + lanes.length * rowH + 60
  const parts: string[] = []
  for (const b of bands) {
    const color = b.kind === 'refresh' ? '#3b82f6' : b.kind === 'login' ? '#8b5cf6' : '#f59e0b'
    const w = Math.max(3, x(b.end) - x(b.start))
    const ly = top - (b.kind === 'navigation' ? 38 : 26) // navigation labels get their own row
    parts.push(
      `<rect x="${x(b.start)}" y="${top - 22}" width="${w}" height="${height - top - 20}" fill="${color}" opacity="0.12"/>`,
      `<rect x="${x(b.start)}" y="${top - 22}" width="${w}" height="14" fill="${color}"><title>${esc(b.label)}</title></rect>`,
      // Labels near the right edge grow leftwards so they stay readable.
      x(b.start) > width - 220
        ? `<text x="${x(b.start) - 2}" y="${ly}" font-size="10" fill="${color}" text-anchor="end">${esc(b.label)}</text>`
        : `<text x="${x(b.start) + 2}" y="${ly}" font-size="10" fill="${color}">${esc(b.label)}</text>`,
    )
  }
  let scene = ''
  lanes.forEach((lane, i) => {
    const y = top + i * rowH
    if (lane.scene !== scene) {
      scene = lane.scene
      parts.push(`<line x1="0" x2="${width}" y1="${y - 1}" y2="${y - 1}" stroke="#ddd"/>`)
    }
    parts.push(
      `<text x="4" y="${y + 11}" font-size="10" fill="#333">${esc(lane.label)}</text>`,
      // The caller's whole wait: from the call to the answer it finally got.
      `<rect x="${x(lane.start)}" y="${y + 6}" width="${Math.max(1, x(lane.end) - x(lane.start))}" height="2" fill="#9ca3af"><title>${esc(lane.label)}: ${esc(lane.outcome)}</title></rect>`,
    )
    for (const a of lane.attempts) {
      const fill = a.status >= 200 && a.status < 300 ? '#16a34a' : '#dc2626'
      parts.push(
        `<rect x="${x(a.start)}" y="${y + 2}" width="${Math.max(2, x(a.end) - x(a.start))}" height="10" rx="2" fill="${fill}"><title>${a.status} · token generation ${a.generation ?? 'none'} · ${(a.end - a.start).toFixed(0)} ms</title></rect>`,
      )
    }
    parts.push(`<text x="${Math.min(width - 120, x(lane.end) + 4)}" y="${y + 11}" font-size="9" fill="#555">${esc(lane.outcome)}</text>`)
  })
  for (let t = 0; t <= end; t += Math.max(50, Math.round(end / 10 / 50) * 50)) {
    parts.push(`<text x="${x(t)}" y="${height - 20}" font-size="9" fill="#777">${t} ms</text>`)
  }
  const legend = `<p><span style="color:#16a34a">■</span> attempt answered 2xx <span style="color:#dc2626">■</span> attempt answered 401/expired <span style="color:#9ca3af">━</span> caller waiting <span style="color:#3b82f6">■</span> refresh <span style="color:#8b5cf6">■</span> login <span style="color:#f59e0b">■</span> navigation to the login page</p>`
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;color:#111}svg{border:1px solid #eee;background:#fff}table{border-collapse:collapse;margin-top:16px}td,th{border:1px solid #ddd;padding:4px 10px;text-align:right}td:first-child,th:first-child{text-align:left}</style></head>
<body><h1>${esc(title)}</h1>${legend}
<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${parts.join('')}</svg>
${table(scenes)}</body></html>
`
}

/** Counts per scene, as measured on the server. */
function table(scenes: SceneRow[]): string {
  if (!scenes.length) return ''
  const cols = Object.keys(scenes[0])
  const head = cols.map((c) => `<th>${esc(c)}</th>`).join('')
  const rows = scenes.map((s) => `<tr>${cols.map((c) => `<td>${esc(String(s[c]))}</td>`).join('')}</tr>`).join('')
  return `<table><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table>`
}
