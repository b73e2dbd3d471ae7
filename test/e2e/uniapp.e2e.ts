// End to end: the uni-app playground's three outputs, built by scripts/e2e.mjs.
import { smokeSuites } from './playground-smoke'

smokeSuites('uni', { baseline: true })
