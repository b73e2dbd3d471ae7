import type { Logger } from '../../src/index.js'

// Every mini program runtime has a console; declared here because the build has no DOM or Node types.
declare const console: Logger

/** Tells the app's developer something, once: a message, and what it is about (an error, a value). */
export type Report = (message: string, ...detail: unknown[]) => void

/** Reports through the user's `logger` when given, else the console. */
export const reporter =
  ({ logger }: { logger?: Logger }): Report =>
  (message, ...detail) =>
    (logger || console).warn(message, ...detail)

/** What a platform failure says, whichever way it says it: WeChat's `errMsg`, Alipay's `errorMessage`, an Error. */
export const describeError = (error: unknown): string => {
  const e = error as { errMsg?: unknown; errorMessage?: unknown; message?: unknown } | undefined
  return String((e && (e.errMsg || e.errorMessage || e.message)) || error)
}
