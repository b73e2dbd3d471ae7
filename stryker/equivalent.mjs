// @ts-check
// Equivalent mutants: changes to the code that no test can observe, each with the reason (issue 13: listed,
// never silently excluded). stryker.config.mjs registers the `equivalent` ignorer below.
//
// An entry names the file, a piece of code that occurs once in it (its line is found from it, so entries
// survive edits elsewhere in the file), the Stryker mutator and the replacement it makes. Like Stryker's own
// `// Stryker disable next-line <Mutator>` comments, the ignorer works per line and mutator: it ignores
// every mutant that mutator makes on that line. So:
// - `ignored`: the only mutant of that mutator on that line is the equivalent one. Ignored, shown in the
//   report as "Ignored" with the reason, and left out of the score.
// - `counted`: the same mutator makes other mutants on that line that tests do kill; ignoring the line would
//   hide those. Listed here with the reason, left in the score as survivors.
// - `untestable`: not equivalent, but killing them would take an unhandled rejection, which fails Vitest's
//   run. Listed so they are not mistaken for gaps; left in the score.
// An entry whose code is not found, or found twice, stops the run, so the list cannot go stale silently.
import { readFileSync } from 'node:fs'
import { relative } from 'node:path'
import { PluginKind, declareValuePlugin } from '@stryker-mutator/api/plugin'

/** @typedef {{ file: string, code: string, mutator: string, replacement: string, reason: string }} Entry */

/** @type {Entry[]} */
export const ignored = [
  // src/
  {
    file: 'src/flight.ts',
    code: "throw new TokenRelayError('LOGGED_OUT', 'superseded before it started')",
    mutator: 'StringLiteral',
    replacement: '"" (the code, and the message)',
    reason: 'this error only ends an attempt whose flight was already settled by clear()/setCredentials(); run() discards it unseen',
  },
  {
    file: 'src/flight.ts',
    code: "configError('refresh failed', e)",
    mutator: 'StringLiteral',
    replacement: '""',
    reason:
      'unreachable: everything thrown inside run() is already a TokenRelayError (attempt() classifies, credentialsFrom() throws ours)',
  },
  {
    file: 'src/flight.ts',
    code: '      epoch++',
    mutator: 'UpdateOperator',
    replacement: 'epoch--',
    reason: 'an epoch only has to change and never come back; nothing else writes it, so counting down does both',
  },
  {
    file: 'src/flight.ts',
    code: 'let times: number[] = []',
    mutator: 'ArrayDeclaration',
    replacement: '["Stryker was here"]',
    reason: 'a string fails `t <= now` and leaves the window at the first start()',
  },
  {
    file: 'src/jwt.ts',
    code: "throw new Error('not base64url')",
    mutator: 'StringLiteral',
    replacement: '""',
    reason: 'decodeJwt() catches it and answers undefined; the message is never seen',
  },
  {
    file: 'src/jwt.ts',
    code: '  } catch {\n    return undefined',
    mutator: 'BlockStatement',
    replacement: '{}',
    reason: 'an empty catch falls off the end of decodeJwt(), which returns undefined just the same',
  },
  {
    file: 'src/relay.ts',
    code: '} else if (!session.creds && session.ended) {',
    mutator: 'LogicalOperator',
    replacement: '!session.creds || session.ended',
    reason:
      'after a version change, no credentials implies ended (forget() sets both) and credentials imply not ended (accept() clears it)',
  },
  {
    file: 'src/session.ts',
    code: '  } catch (error) {\n    report(error)\n  }\n\n  return state',
    mutator: 'BlockStatement',
    replacement: '{}',
    reason:
      'a storage.get that throws at once is reported while createTokenRelay() runs, before anyone can subscribe to `error` (reported as a gap)',
  },
  {
    file: 'src/url.ts',
    code: '    } catch {\n      return null',
    mutator: 'BlockStatement',
    replacement: '{}',
    reason: 'a host that cannot be percent-decoded still holds its `%`, which the check right after refuses: null either way',
  },
  {
    file: 'src/url.ts',
    code: 'if (memo.size >= 64) memo.clear()',
    mutator: 'ConditionalExpression',
    replacement: 'true, false',
    reason: 'the memo is a cache of a pure function: clearing it always or never gives the same verdicts (the bound only limits memory)',
  },
  {
    file: 'src/url.ts',
    code: 'if (memo.size >= 64) memo.clear()',
    mutator: 'EqualityOperator',
    replacement: 'memo.size > 64, memo.size < 64',
    reason: 'the same cache: when it is cleared changes no verdict',
  },
  // platforms/
  ...['platforms/wx/index.ts', 'platforms/my/index.ts'].map((file) => ({
    file,
    code: "if (signal) signal.addEventListener('abort', () => task.abort())",
    mutator: 'StringLiteral',
    replacement: '""',
    reason: "the signal here is always the adapter's own (callThrough's createAbort()), which ignores the event name",
  })),
  {
    file: 'platforms/uniapp/adapter.ts',
    code: "if (signal) signal.addEventListener('abort', () => task?.abort?.())",
    mutator: 'StringLiteral',
    replacement: '""',
    reason: "the signal here is always the adapter's own (createAbort()), which ignores the event name",
  },
  {
    file: 'platforms/shared/signal.ts',
    code: 'removeEventListener: (_, fn) => void listeners.delete(fn)',
    mutator: 'ArrowFunction',
    replacement: '() => undefined',
    reason: 'a listener left behind only rejects a promise that has settled (a no-op), and abort() clears the set anyway',
  },
  {
    file: 'platforms/shared/call.ts',
    code: 'const listeners: [string, unknown][] = []',
    mutator: 'ArrayDeclaration',
    replacement: '["Stryker was here"]',
    reason: "a string entry destructures to method 'S': no platform task has that method, so nothing is called",
  },
  {
    file: 'platforms/shared/login-page.ts',
    code: 'tabBarFromConfig: () => string[] = () => []',
    mutator: 'ArrayDeclaration',
    replacement: '["Stryker was here"]',
    reason: "'/Stryker was here' is no page anyone navigates to",
  },
  {
    file: 'platforms/shared/login-page.ts',
    code: 'getCurrentPages()) || []',
    mutator: 'ArrayDeclaration',
    replacement: '["Stryker was here"]',
    reason: 'a string has no route: the one "page" is nowhere to remember or go back to, like no page at all',
  },
  {
    file: 'platforms/shared/relay.ts',
    code: 'platform.resolvesRelative || (() => false)',
    mutator: 'ArrowFunction',
    replacement: '() => undefined',
    reason: 'undefined is as falsy as false where it is read (`|| resolvesRelative()`)',
  },
  {
    file: 'platforms/taro/index.ts',
    code: "const BYPASS = '__tokenrelayBypass'",
    mutator: 'StringLiteral',
    replacement: '""',
    reason: 'the mark is written and read under the same name, whatever it is',
  },
  {
    file: 'src/tabs.ts',
    code: '.then(() => clock.clearTimeout(timer))',
    mutator: 'ArrowFunction',
    replacement: '() => undefined',
    reason: 'the bound left running only resolves a promise that has already settled with the read',
  },
  {
    file: 'src/tabs.ts',
    code: '    } catch {',
    mutator: 'BlockStatement',
    replacement: '{} (the catch returns undefined)',
    reason: 'its one reader tests it for truth (`!(await adoptStored(carried))`, `adopted && …`): undefined is false there',
  },
]

/** @type {(Entry & { killed: string })[]} */
export const counted = [
  {
    file: 'src/flight.ts',
    code: '        if (myEpoch !== epoch) throw error',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    killed: '`true` (no retry ever)',
    reason: 'after the backoff the next try checks the epoch again before it calls anything (`superseded before it started`)',
  },
  {
    file: 'src/classify.ts',
    code: 'if (value == null) return undefined',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    killed: '`true`',
    reason: 'an absent Retry-After fails the digits test and Date.parse(undefined) is NaN: undefined either way',
  },
  {
    file: 'src/classify.ts',
    code: 'return ms > 0 ? ms : undefined',
    mutator: 'EqualityOperator',
    replacement: 'ms >= 0',
    killed: '`ms <= 0`',
    reason: 'a retryAfterMs of 0 is dropped by TokenRelayError (`if (options.retryAfterMs)`), like undefined',
  },
  {
    file: 'src/detect.ts',
    code: "headerOf(response, 'www-authenticate') || ''",
    mutator: 'StringLiteral',
    replacement: '"Stryker was here!"',
    killed: '`\'www-authenticate\'` → `""`',
    reason: 'the fallback holds no `error=`, like the empty string',
  },
  {
    file: 'src/detect.ts',
    code: "{ status = [401], codes = [], codeField = 'code' }",
    mutator: 'ArrayDeclaration',
    replacement: 'codes = ["Stryker was here"]',
    killed: '`status = []`',
    reason: 'only a body whose code is that very sentence could tell',
  },
  {
    file: 'src/jwt.ts',
    code: 'if (!part) return undefined',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    killed: '`true`',
    reason:
      'without the early return, a missing part throws (undefined.replace) and an empty one fails JSON.parse: both end in the catch, undefined',
  },
  {
    file: 'src/relay.ts',
    code: "(state === 'ahead' && ((refresh && creds.refreshToken) || login)) ? state : null",
    mutator: 'ConditionalExpression',
    replacement: "`true` for `state === 'ahead'`",
    killed: 'the other six',
    reason: 'the expression answers `state` itself, which is null whenever it is not ahead',
  },
  {
    file: 'src/session.ts',
    code: 'aheadMs = expiresAt == null ? 0 :',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    killed: '`true`',
    reason: 'aheadMs becomes NaN only for credentials without an expiry, for which due() returns before reading it',
  },
  {
    file: 'src/session.ts',
    code: 'if (at == null) return null',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    killed: '`true`',
    reason: 'comparisons with an undefined expiry are false (null); due() is never asked without credentials (relay.ts checks first)',
  },
  {
    file: 'src/url.ts',
    code: 'if (verdict === undefined) {',
    mutator: 'ConditionalExpression',
    replacement: 'true',
    killed: '`false`',
    reason: 'deciding again instead of using the memo gives the same verdict (decide() is pure; the warning is once-only anyway)',
  },
  {
    file: 'src/url.ts',
    code: '[baseURL, ...(origins || [])]',
    mutator: 'ArrayDeclaration',
    replacement: 'origins || ["Stryker was here"]',
    killed: '`[baseURL, …]` → `[]`',
    reason: "originOf('Stryker was here') is null, and a null entry never matches",
  },
  // platforms/
  {
    file: 'platforms/shared/login-page.ts',
    code: 'if (pages.length >= 2 && where(pages[pages.length - 2]) === url) {',
    mutator: 'ConditionalExpression',
    replacement: '`true` for `pages.length >= 2`',
    killed: 'the other three',
    reason: 'with one page, pages[-1] is undefined and where(undefined) is no URL: not equal either way',
  },
  {
    file: 'platforms/shared/signal.ts',
    code: 'if (signal.aborted) return',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    killed: '`true`',
    reason: 'a second abort() finds the listeners already cleared',
  },
]

/**
 * Survivors that are not equivalent but that no test can kill without failing the run: they only silence an
 * unhandled rejection of a caller who ignores the promise, and Vitest fails the whole run on any unhandled
 * rejection. Listed so they are not mistaken for gaps; counted in the score.
 * @type {(Entry & { killed: string })[]}
 */
export const untestable = [
  {
    file: 'platforms/shared/call.ts',
    code: 'if (success || fail || complete) task.catch(() => {})',
    mutator: 'ConditionalExpression',
    replacement: 'true',
    killed: '`false` and the `&&` variants (platforms/shared/call.test.ts)',
    reason: "marks a promise caller's rejection handled: only an unhandled rejection would show it",
  },
  {
    file: 'platforms/taro/index.ts',
    code: 'params.success || params.fail || params.complete',
    mutator: 'ConditionalExpression',
    replacement: 'true',
    killed: '`false` and the `&&` variants (platforms/taro/conventions.test.ts)',
    reason: "the same for Taro's chain",
  },
]

/** file → line → mutator → reason, for the `ignored` entries. */
function index(cwd = process.cwd()) {
  /** @type {Map<string, Map<number, Map<string, string>>>} */
  const byFile = new Map()
  for (const e of [...ignored, ...counted, ...untestable]) {
    const text = readFileSync(`${cwd}/${e.file}`, 'utf8')
    const at = text.indexOf(e.code)
    if (at < 0 || text.indexOf(e.code, at + 1) >= 0) {
      throw new Error(`stryker/equivalent.mjs: ${JSON.stringify(e.code)} is ${at < 0 ? 'not in' : 'more than once in'} ${e.file}`)
    }
    if (!ignored.includes(/** @type {never} */ (e))) continue
    const line = text.slice(0, at + e.code.search(/\S/)).split('\n').length
    const lines = byFile.get(e.file) || byFile.set(e.file, new Map()).get(e.file)
    const mutators = lines.get(line) || lines.set(line, new Map()).get(line)
    mutators.set(e.mutator, `Equivalent: ${e.reason}`)
  }
  return byFile
}

/**
 * Stryker's ignorers see nodes, not mutators, so this one goes through Stryker's own per-line, per-mutator
 * directive: entering a file, it puts `// Stryker disable next-line <Mutator>: <reason>` on the first node of
 * each listed line, exactly as if the comment were in the source.
 */
const ignorer = {
  /** @type {Map<string, Map<number, Map<string, string>>> | undefined} */
  byFile: undefined,
  shouldIgnore(/** @type {any} */ path) {
    if (!path.isProgram()) return undefined
    const file = relative(process.cwd(), path.hub.file.opts.filename).split('\\').join('/')
    const lines = (ignorer.byFile ||= index()).get(file)
    if (!lines) return undefined
    const pending = new Map(lines)
    path.traverse({
      enter(/** @type {any} */ p) {
        const mutators = pending.get(p.node.loc?.start.line)
        if (!mutators) return
        pending.delete(p.node.loc.start.line)
        for (const [mutator, reason] of mutators) {
          ;(p.node.leadingComments ||= []).push({
            type: 'CommentLine',
            value: ` Stryker disable next-line ${mutator}: ${reason}`,
            loc: p.node.loc,
          })
        }
      },
    })
    return undefined
  },
}

export const strykerPlugins = [declareValuePlugin(PluginKind.Ignore, 'equivalent', ignorer)]
