import type { RelayResponse } from './types.js'

export interface ExpiredRule {
  /** HTTP statuses meaning "the access token is no longer accepted". @default [401] */
  status?: number[]
  /** Business codes in the body meaning the same, compared as strings (`1002` matches `'1002'`). @default [] */
  codes?: (string | number)[]
  /** Dot path of the code in the body. @default 'code' */
  codeField?: string
}

/** Bodies arrive as strings on uploads (and with `dataType: 'text'`): read them as JSON when they are. */
export function parseBody(data: unknown): unknown {
  if (typeof data === 'string' && /^\s*[[{]/.test(data)) {
    try {
      return JSON.parse(data)
    } catch {
      // Not JSON after all.
    }
  }
  return data
}

export const pick = (value: unknown, path: string): unknown =>
  path.split('.').reduce((v, key) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined), value)

/** A response header by case-insensitive name, from a plain object or a fetch-style `Headers` (`get()`). */
export function headerOf(response: RelayResponse, name: string): string | undefined {
  const header = (response.header || {}) as Record<string, unknown> & { get?: (name: string) => string | null }
  if (typeof header.get === 'function') return header.get(name) ?? undefined
  const key = Object.keys(header).find((k) => k.toLowerCase() === name)
  return key && header[key] != null ? String(header[key]) : undefined
}

/** The `error` of a `WWW-Authenticate: Bearer error="…"` challenge (RFC 6750 §3), lower-cased. */
export function bearerError(response: RelayResponse): string | undefined {
  const m = /error="?([\w-]+)/i.exec(headerOf(response, 'www-authenticate') || '')
  return m ? m[1].toLowerCase() : undefined
}

/** Builds the default expiry test from the `expired` option. */
export function expiryDetector({ status = [401], codes = [], codeField = 'code' }: ExpiredRule = {}): (response: RelayResponse) => boolean {
  const wanted = codes.map(String)
  return (response) => {
    const challenge = bearerError(response)
    // 403 insufficient_scope and friends: a new token of the same user changes nothing.
    if (challenge) return challenge === 'invalid_token'
    const code = wanted.length ? pick(parseBody(response.data), codeField) : null
    return status.indexOf(response.statusCode) >= 0 || (code != null && wanted.indexOf(String(code)) >= 0)
  }
}
