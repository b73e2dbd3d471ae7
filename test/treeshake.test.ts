// Optional parts must cost nothing when unused: an app importing createTokenRelay, or an adapter's install(),
// ships no JWT decoder and no debug timeline.
import { describe, expect, it } from 'vitest'
import { bundleSize } from '../bench/bundle-size.js'

/** A string only src/jwt.ts holds (its base64url alphabet survives minification verbatim). */
const JWT_MARKER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
/** A string only src/debug.ts holds (the timeline's line prefix). */
const DEBUG_MARKER = '[tokenrelay +'

describe('tree-shaking', () => {
  it('importing createTokenRelay alone ships no JWT decoder', async () => {
    const full = await bundleSize('index', { entry: 'src/index.ts' })
    const typical = await bundleSize("import { createTokenRelay } from 'tokenrelay'", {
      contents: "export { createTokenRelay } from 'tokenrelay'",
    })
    // The marker must be in the full entry, or its absence below would prove nothing.
    expect(full.code).toContain(JWT_MARKER)
    expect(full.code).toContain(DEBUG_MARKER)
    expect(typical.code).not.toContain(JWT_MARKER)
    expect(typical.code).not.toContain(DEBUG_MARKER)
    expect(typical.inputs.map((i) => i.path)).not.toContain('src/jwt.ts')
    expect(typical.inputs.map((i) => i.path)).not.toContain('src/debug.ts')
    expect(typical.gzipBytes).toBeLessThan(full.gzipBytes)
  })

  it.each(['wx', 'my', 'tt', 'taro', 'uniapp'])('tokenrelay/%s ships neither the JWT decoder nor the debug timeline', async (name) => {
    const adapter = await bundleSize(name, { entry: `platforms/${name}/index.ts` })
    const paths = adapter.inputs.map((i) => i.path)
    // The adapter must bundle the engine, or the absence below would prove nothing.
    expect(paths).toContain('src/relay.ts')
    expect(paths).not.toContain('src/jwt.ts')
    expect(paths).not.toContain('src/debug.ts')
  })
})
