#!/usr/bin/env node
// @ts-check
/**
 * CLI: `node playground-server [--port N] [--host H] [--log]`.
 * Port from --port, else $PORT, else 0 (ephemeral). Closes on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util'
import { startServer } from './server.js'

async function main() {
  let args
  try {
    args = parseArgs({
      args: process.argv.slice(2),
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        log: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values
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
