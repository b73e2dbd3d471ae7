// Optional parts must cost nothing when unused: an app importing createTokenRelay ships no JWT decoder.
import { describe, expect, it } from 'vitest'
import { bundleSize } from '../bench/bundle-size.js'

/** A string only src/jwt.ts holds (its base64url alphabet survives minification verbatim). */
const JWT_MARKER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

describe('tree-shaking', () => {
  it('importing createTokenRelay alone ships no JWT decoder', async () => {
    const full = await bundleSize('index', { entry: 'src/index.ts' })
    const typical = await bundleSize("import { createTokenRelay } from 'tokenrelay'", {
      contents: "export { createTokenRelay } from 'tokenrelay'",
    })
    // The marker must be in the full entry, or its absence below would prove nothing.
    expect(full.code).toContain(JWT_MARKER)
    expect(typical.code).not.toContain(JWT_MARKER)
    expect(typical.inputs.map((i) => i.path)).not.toContain('src/jwt.ts')
    expect(typical.gzipBytes).toBeLessThan(full.gzipBytes)
  })
})
