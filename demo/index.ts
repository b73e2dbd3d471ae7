// npm run demo
import { runDemo } from './run.js'

const started = Date.now()
await runDemo({ out: 'demo-timeline.html', print: (line) => console.log(line) })
console.log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`)
