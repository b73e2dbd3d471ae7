// Every ```ts block in the READMEs is compiled against the real sources, so the examples users copy
// stay true to the API. `tokenrelay` and `tokenrelay/<name>` resolve to src/ and platforms/<name>/.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import ts from 'typescript'
import { afterAll, describe, expect, it } from 'vitest'

const root = join(import.meta.dirname, '..')
const out = join(root, 'node_modules/.cache/readme-examples')

function blocks(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8')
  return [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1])
}

function diagnostics(files: string[]): string[] {
  const program = ts.createProgram(files, {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2020,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    skipLibCheck: true,
    types: ['node', 'miniprogram-api-typings'],
    typeRoots: [join(root, 'node_modules/@types'), join(root, 'node_modules')],
    baseUrl: root,
    paths: {
      // The repo root holds subpath stubs (react/, taro/…): without this, baseUrl would resolve React to ours.
      react: ['node_modules/@types/react'],
      tokenrelay: ['src/index.ts'],
      'tokenrelay/auth': ['src/auth.ts'],
      'tokenrelay/taro/plugin': ['platforms/taro/plugin.ts'],
      'tokenrelay/uniapp/vite': ['platforms/uniapp/vite.ts'],
      'tokenrelay/*': ['platforms/*/index.ts'],
    },
  })
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file ? `${d.file.fileName.replace(out + '/', '')}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}` : ''
    return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`
  })
}

afterAll(() => rmSync(out, { recursive: true, force: true }))

describe.each(['README.md', 'README.zh-CN.md'])('%s examples', (readme) => {
  it('has TypeScript examples, and each one compiles', () => {
    const examples = blocks(readme)
    expect(examples.length).toBeGreaterThanOrEqual(3)
    mkdirSync(out, { recursive: true })
    // Each block is its own module, so names do not clash between examples.
    const files = examples.map((code, i) => {
      const file = join(out, `${readme.replace(/\W/g, '_')}-${i + 1}.ts`)
      writeFileSync(file, code.includes('export ') || code.includes('import ') ? code : code + '\nexport {}\n')
      return file
    })
    expect(diagnostics(files)).toEqual([])
  })
})

it('the check catches a wrong example', () => {
  mkdirSync(out, { recursive: true })
  const file = join(out, 'broken.ts')
  writeFileSync(file, "import { createTokenRelay } from 'tokenrelay'\ncreateTokenRelay({ maxReplay: 2 })\n")
  expect(diagnostics([file]).join('\n')).toContain("'maxReplay' does not exist")
})
