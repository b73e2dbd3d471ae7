// Opt-in (`decodeToken: decodeJwt`) so apps with opaque tokens do not ship a base64 decoder.

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

function base64UrlDecode(input: string): string {
  let bits = 0
  let value = 0
  let bytes = ''
  for (const ch of input.replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_')) {
    const v = ALPHABET.indexOf(ch)
    if (v < 0) throw new Error('not base64url')
    value = (value << 6) | v
    bits += 6
    if (bits >= 8) {
      bits -= 8
      bytes += '%' + ((value >> bits) & 255).toString(16).padStart(2, '0')
    }
  }
  return decodeURIComponent(bytes)
}

/**
 * Reads `exp` and `iat` (seconds) from a JWT's payload without verifying it: the relay only uses them to
 * time a refresh. Returns undefined for anything that is not a JWT.
 * @example createTokenRelay({ decodeToken: decodeJwt })
 */
export function decodeJwt(token: string): { exp?: number; iat?: number } | undefined {
  const part = token.split('.')[1]
  if (!part) return undefined
  try {
    const claims = JSON.parse(base64UrlDecode(part))
    return claims && typeof claims === 'object' ? claims : undefined
  } catch {
    return undefined
  }
}
