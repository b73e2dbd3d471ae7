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
