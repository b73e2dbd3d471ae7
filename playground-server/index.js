#!/usr/bin/env node
// @ts-check
/**
 * CLI: `node playground-server [--port N] [--host H] [--log]`.
 * Port from --port, else $PORT, else 0 (ephemeral). Closes on SIGINT/SIGTERM.
 */
import { startServer } from './server.js'

/**
 * @param {string[]} argv
 * @returns {{ port?: string, host?: string, log: boolean, help: boolean }}
 */
function parseArgs(argv) {
  /** @type {{ port?: string, host?: string, log: boolean, help: boolean }} */
  const out = { log: false, help: false }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined]
    if (flag === '--port' || flag === '--host') {
      const value = inline !== undefined ? inline : argv[++i]
      if (value === undefined) throw new Error(`${flag} needs a value`)
      if (flag === '--port') out.port = value
      else out.host = value
    } else if (flag === '--log') out.log = true
    else if (flag === '--help' || flag === '-h') out.help = true
    else throw new Error(`unknown argument: ${arg}`)
  }
  return out
}

async function main() {
  let args
  try {
    args = parseArgs(process.argv.slice(2))
  } catch (error) {
    console.error(`tokenrelay reference server: ${/** @type {Error} */ (error).message}`)
    process.exitCode = 2
    return
  }
  if (args.help) {
    console.log('usage: node playground-server [--port N] [--host H] [--log]   (port also from $PORT; default 0 = ephemeral)')
    return
  }
  const rawPort = args.port !== undefined ? args.port : process.env.PORT || '0'
  const port = Number(rawPort)
  if (!/^\d+$/.test(rawPort) || port > 65535) {
    console.error(`tokenrelay reference server: invalid port ${JSON.stringify(rawPort)}`)
    process.exitCode = 2
    return
  }
  const server = await startServer({ port, host: args.host, log: args.log })
  console.log(`tokenrelay reference server listening on ${server.url}`)
  let stopping = false
  const stop = () => {
    if (stopping) return
    stopping = true
    server.close().then(() => process.exit(0))
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

main().catch((error) => {
  console.error(`tokenrelay reference server: ${error instanceof Error ? error.message : String(error)}`)
  process.exitCode = 1
})
