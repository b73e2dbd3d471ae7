// Mini program runtimes have no `URL` global, so origins are parsed by hand.

const DEFAULT_PORTS: Record<string, string> = { http: '80', https: '443', ws: '80', wss: '443' }

/** `scheme://host[:port]` with default ports dropped and the host lower-cased, or null when not absolute. */
export function originOf(url: string): string | null {
  const m = /^([a-z][a-z\d+.-]*):\/\/([^/?#]*)/i.exec(url)
  if (!m) return null
  const scheme = m[1].toLowerCase()
  // Userinfo (`https://good.com@evil.com`) must not fool the host check.
  const authority = m[2].slice(m[2].lastIndexOf('@') + 1).toLowerCase()
  const hp = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(authority)
  if (!hp || !hp[1]) return null
  const port = hp[2] && hp[2] !== DEFAULT_PORTS[scheme] ? ':' + hp[2] : ''
  return `${scheme}://${hp[1]}${port}`
}

/** Resolves `url` against `base` the way a browser would for the common cases. */
export function resolveURL(url: string, base: string | undefined): string {
  if (!base || /^[a-z][a-z\d+.-]*:/i.test(url)) return url
  const origin = originOf(base)
  if (url.startsWith('//')) return base.slice(0, base.indexOf(':') + 1) + url
  if (url.startsWith('/') && origin) return origin + url
  return base.replace(/\/+$/, '') + '/' + url.replace(/^\.?\/+/, '')
}
