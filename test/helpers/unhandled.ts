// Unhandled rejections, counted while a test runs. Vitest only reports them after the file has run (and
// then fails the run without naming the test): counting them lets a test assert "none" itself.

/** Starts counting; `stop()` removes the listener. */
export function trackUnhandled() {
  const reasons: unknown[] = []
  const listener = (reason: unknown) => void reasons.push(reason)
  process.on('unhandledRejection', listener)
  return {
    reasons,
    /** Node reports a rejection once the microtasks of the turn that made it have run: wait a macrotask. */
    settle: () => new Promise((resolve) => setTimeout(resolve, 20)),
    stop: () => void process.off('unhandledRejection', listener),
  }
}
