// End to end: the Taro playground's three outputs, built by scripts/e2e.mjs.
import { smokeSuites } from './playground-smoke'

smokeSuites('taro', { baseline: true })
