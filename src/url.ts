// Mini program runtimes have no `URL` global, so origins are parsed by hand.

/** A URL that starts with a scheme (`https:`, `data:`…): absolute, never resolved against a base. */
export const SCHEME = /^[a-z][a-z\d+.-]*:/i

/** `scheme://host[:port]` with default ports dropped and the host lower-cased, or null when not absolute. */
export function originOf(url: string): string | null {
  // Userinfo (`https://good.com@evil.com`) must not fool the host check: the host starts after the last `@`.
  const m = /^([a-z][a-z\d+.-]*):\/\/(?:[^/?#]*@)?(\[[^\]]*\]|[^:/?#@]+)(?::(\d*))?(?:[/?#]|$)/i.exec(url)
  if (!m) return null
  const scheme = m[1].toLowerCase()
  const port = m[3] && m[3] != { http: '80', https: '443', ws: '80', wss: '443' }[scheme] ? ':' + m[3] : ''
  return `${scheme}://${m[2].toLowerCase()}${port}`
}

/** Resolves `url` against `base` the way a browser would for the common cases. */
export function resolveURL(url: string, base: string | undefined): string {
  if (!base || SCHEME.test(url)) return url
  if (url.startsWith('//')) return base.slice(0, base.indexOf(':') + 1) + url
  const origin = originOf(base)
  return url[0] == '/' && origin ? origin + url : base.replace(/\/+$/, '') + '/' + url.replace(/^\.?\/+/, '')
}
