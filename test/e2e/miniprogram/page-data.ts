/**
 * A page's data as setData writes it and the tests read it: setData's path keys, and every string the
 * data holds (what the view would render, the tests' window onto the page).
 */

/** setData path keys: `a.b`, `a[0].b`, and Taro's `root.cn.[0].v`. */
function pathTokens(key: string): Array<string | number> {
  const tokens: Array<string | number> = []
  const re = /\[(\d+)\]|[^.[\]]+/g
  let m: RegExpExecArray | null
  while ((m = re.exec(key))) tokens.push(m[1] !== undefined ? Number(m[1]) : m[0])
  return tokens
}

export function setPath(root: Record<string, any>, key: string, value: unknown): void {
  const tokens = pathTokens(key)
  let cur: any = root
  for (let i = 0; i < tokens.length - 1; i++) {
    const t = tokens[i]
    if (cur[t] == null || typeof cur[t] !== 'object') cur[t] = typeof tokens[i + 1] === 'number' ? [] : {}
    cur = cur[t]
  }
  cur[tokens[tokens.length - 1]] = value
}

export function getPath(root: unknown, key: string): any {
  let cur: any = root
  for (const t of pathTokens(key)) {
    if (cur == null) return undefined
    cur = cur[t]
  }
  return cur
}

/** Every string value, in order: rendered text, but also class names etc. */
export function collectStrings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value)
  else if (Array.isArray(value)) for (const v of value) collectStrings(v, out)
  else if (value && typeof value === 'object') for (const v of Object.values(value)) collectStrings(v, out)
  return out
}
