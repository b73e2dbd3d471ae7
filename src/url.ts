// Mini program runtimes have no `URL` global, so origins are parsed by hand. The host found here must be the
// host the network layer will contact, or the token leaks: WHATWG parsers (browsers, H5 builds, Node) end
// the authority at `\`, strip leading and trailing spaces and control characters and drop tabs and newlines
// anywhere, and native mini program stacks may do otherwise. A URL whose scheme or authority could be read
// two ways is therefore never given a token (see `ambiguous`).

/** A URL that starts with a scheme (`https:`, `data:`…): absolute, never resolved against a base. */
export const SCHEME = /^[a-z][a-z\d+.-]*:/i

const DEFAULT_PORTS: Record<string, string> = { http: '80', https: '443', ws: '80', wss: '443' }

/**
 * True when parsers may disagree on where `url` goes: a backslash, a space or an ASCII control character
 * (tab and newline included) before the query or fragment.
 */
export const ambiguous = (url: string): boolean => /^[^?#]*[\0-\x20\x7f\\]/.test(url)

/** `scheme://host[:port]` with default ports dropped and the host lower-cased, or null when not absolute. */
export function originOf(url: string): string | null {
  // Userinfo (`https://good.com@evil.com`) must not fool the host check: the host starts after the last `@`.
  const m = /^([a-z][a-z\d+.-]*):\/\/(?:[^/?#]*@)?(\[[^\]]*\]|[^:/?#@]+)(?::(\d*))?(?:[/?#]|$)/i.exec(url)
  if (!m) return null
  let host = m[2].toLowerCase()
  if (host.indexOf('%') >= 0) {
    try {
      // Browsers percent-decode the host (`api%2Eexample.com` is api.example.com).
      host = decodeURIComponent(host)
    } catch {
      return null
    }
    if (/[\0-\x20%/\\?#@]/.test(host)) return null // what a WHATWG parser refuses as a host
  }
  const scheme = m[1].toLowerCase()
  const port = m[3] ? String(+m[3]) : ''
  return `${scheme}://${host}${port && port !== DEFAULT_PORTS[scheme] ? ':' + port : ''}`
}

/** Resolves `url` against `base` the way a browser would for the common cases. */
export function resolveURL(url: string, base: string | undefined): string {
  if (!base || SCHEME.test(url)) return url
  if (url.startsWith('//')) return base.slice(0, base.indexOf(':') + 1) + url
  const origin = originOf(base)
  return url[0] === '/' && origin ? origin + url : base.replace(/\/+$/, '') + '/' + url.replace(/^\.?\/+/, '')
}

/**
 * Who may receive the token: `baseURL`'s origin and `origins` (exact, or a RegExp tested against the origin).
 * With neither, everyone (with one warning). A relative URL with no `baseURL` stays on the page's own origin
 * (H5); `//host` does not.
 */
export function allowList(baseURL: string | undefined, origins: (string | RegExp)[] | undefined, logger: { warn(message: string): void }) {
  const list = baseURL || origins ? [baseURL, ...(origins || [])].map((x) => (typeof x === 'string' ? originOf(x) : x)) : null
  let warned = false
  // Apps call a handful of URLs over and over: remember the last verdicts instead of parsing each time.
  const memo = new Map<string, boolean>()
  return (url: string): boolean => {
    let verdict = memo.get(url)
    if (verdict === undefined) {
      if (memo.size >= 64) memo.clear()
      memo.set(url, (verdict = decide(url)))
    }
    return verdict
  }
  function decide(url: string): boolean {
    if (ambiguous(url)) return false
    if (!list) {
      if (!warned) logger.warn('[tokenrelay] no baseURL or origins: the token goes to every host')
      return (warned = true)
    }
    const origin = originOf(url)
    return origin
      ? list.some((x) => (typeof x === 'string' ? x === origin : !!x && x.test(origin)))
      : !SCHEME.test(url) && !url.startsWith('//')
  }
}
