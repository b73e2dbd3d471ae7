/**
 * Taps like a user: wait until the element is rendered, then dispatch one real tap event. There is no view
 * layer, so the element is found where each framework keeps it: Taro pages in their rendered tree (by the
 * node's id, dispatched through the page's `eh` event handler), uni / native pages in the page's wxml/axml
 * (`bindtap="{{a}}"` → the method named by data `a`; a literal method name on native pages).
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { getPath } from './page-data'
import type { Pages } from './pages'
import { macrotask, safeInspect, type Sandbox } from './sandbox'
import type { PageInstance } from './types'

/** Waits (up to `timeoutMs`) until the element is rendered and bound, then taps it once. */
export async function tap(sb: Sandbox, pages: Pages, name: string, elementId: string, timeoutMs = 5_000): Promise<void> {
  const inst = pages.instance(name)
  // Why the last attempt found nothing to tap, for the timeout's message.
  let problem = ''
  const target = () => {
    const found = tapTarget(sb, inst, elementId)
    if (typeof found === 'string') {
      problem = found
      return null
    }
    return found
  }
  const invoke = await sb.waitFor(target, timeoutMs, `#${elementId} rendered on ${inst.route}`).catch((err) => {
    throw new Error(`tap: ${(err as Error).message}${problem ? ` (${problem})` : ''}`)
  })
  sb.guard(invoke)
  await macrotask()
  await macrotask()
}

/** The function that performs the tap, or why there is none yet (not rendered / not bound). */
function tapTarget(sb: Sandbox, inst: PageInstance, elementId: string): (() => unknown) | string {
  const data = inst.data
  const taroRoot = data && data.root && typeof data.root === 'object' ? data.root : null
  const event = (target: Record<string, unknown>) =>
    sb.toRealm({
      type: 'tap',
      timeStamp: Date.now(),
      target,
      currentTarget: target,
      detail: { x: 10, y: 10 },
      touches: [],
      changedTouches: [],
    })
  if (typeof inst.eh === 'function') {
    // Taro: one event handler for the page; the node is found by its sid.
    const node = taroRoot && findTaroNode(taroRoot, elementId)
    if (!node) return 'not in the rendered Taro tree'
    const target = { id: elementId, dataset: { sid: node.sid }, targetDataset: { sid: node.sid } }
    return () => inst.eh(event(target))
  }
  let handler: string
  try {
    handler = templateHandler(sb, inst, elementId)
  } catch (err) {
    return (err as Error).message
  }
  if (typeof inst[handler] !== 'function') return `bound to "${handler}", which is not a method`
  const target = { id: elementId, dataset: {}, offsetLeft: 0, offsetTop: 0 }
  return () => inst[handler](event(target))
}

/** Finds the tap handler bound to `id="<elementId>"` in the page's template. */
function templateHandler(sb: Sandbox, inst: PageInstance, elementId: string): string {
  const ext = { wx: 'wxml', tt: 'ttml', my: 'axml' }[sb.platform]
  const file = path.join(sb.dir, `${inst.route}.${ext}`)
  const tpl = fs.readFileSync(file, 'utf8')
  const tagRe = /<[a-zA-Z][\w-]*\s([^<>]*?)\/?>/g
  let m: RegExpExecArray | null
  while ((m = tagRe.exec(tpl))) {
    const attrs = parseAttributes(m[1])
    if (attrs.id !== elementId) continue
    const binding = attrs.bindtap ?? attrs['bind:tap'] ?? attrs.catchtap ?? attrs['catch:tap'] ?? attrs.onTap ?? attrs.catchTap
    if (binding === undefined) throw new Error(`tap: #${elementId} in ${path.basename(file)} has no tap binding`)
    const expr = /^\{\{\s*([\w.$[\]]+)\s*\}\}$/.exec(binding)
    if (!expr) return binding // a literal method name: native pages
    const value = getPath(inst.data, expr[1])
    if (typeof value !== 'string') throw new Error(`tap: #${elementId} binding ${binding} resolves to ${safeInspect(value)}`)
    return value
  }
  throw new Error(`tap: no element id="${elementId}" in ${path.relative(sb.dir, file)}`)
}

/** Taro's rendered tree: nodes `{nn, sid, uid?, cn: [...]}`; the user's id is `uid`. */
function findTaroNode(node: any, id: string): any {
  if (!node || typeof node !== 'object') return null
  if (node.uid === id || node.id === id) return node
  for (const child of node.cn || []) {
    const hit = findTaroNode(child, id)
    if (hit) return hit
  }
  return null
}

function parseAttributes(src: string): Record<string, string> {
  const out: Record<string, string> = {}
  const re = /([:@\w.-]+)(?:\s*=\s*"([^"]*)")?/g
  let m: RegExpExecArray | null
  while ((m = re.exec(src))) out[m[1]] = m[2] ?? ''
  return out
}
