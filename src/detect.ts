import type { RelayResponse } from './types.js'

export interface ExpiredRule {
  /** HTTP statuses meaning "the access token is no longer accepted". @default [401] */
  status?: number[]
  /** Business codes in the body meaning the same, compared as strings (`1002` matches `'1002'`). @default [] */
  codes?: (string | number)[]
  /** Dot path of the code in the body. @default 'code' */
  codeField?: string
}

export function headerValue(response: RelayResponse, name: string): string | undefined {
  const header = response.header || {}
  for (const key in header) {
    if (key.toLowerCase() === name) {
      const v = header[key]
      return Array.isArray(v) ? v.join(', ') : v
    }
  }
  return undefined
}

/** Bodies arrive as strings on uploads (and with `dataType: 'text'`): read them as JSON when they are. */
export function parseBody(data: unknown): unknown {
  if (typeof data !== 'string') return data
  const s = data.trim()
  if (s[0] !== '{' && s[0] !== '[') return data
  try {
    return JSON.parse(s)
  } catch {
    return data
  }
}

export function pick(value: unknown, path: string): unknown {
  for (const part of path.split('.')) {
    if (value == null || typeof value !== 'object') return undefined
    value = (value as Record<string, unknown>)[part]
  }
  return value
}

/** The `error` of a `WWW-Authenticate: Bearer error="…"` challenge (RFC 6750 §3). */
export function bearerError(response: RelayResponse): string | undefined {
  const m = /error="?([\w-]+)/i.exec(headerValue(response, 'www-authenticate') || '')
  return m ? m[1].toLowerCase() : undefined
}

/** Builds the default expiry test from the `expired` option. */
export function expiryDetector(rule: ExpiredRule = {}): (response: RelayResponse) => boolean {
  const statuses = rule.status || [401]
  const codes = (rule.codes || []).map(String)
  const field = rule.codeField || 'code'
  return (response) => {
    const challenge = bearerError(response)
    // 403 insufficient_scope and friends: a new token of the same user changes nothing.
    if (challenge && challenge !== 'invalid_token') return false
    if (statuses.indexOf(response.statusCode) >= 0) return true
    if (!codes.length) return false
    const code = pick(parseBody(response.data), field)
    return code != null && codes.indexOf(String(code)) >= 0
  }
}
