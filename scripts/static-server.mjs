// @ts-check
// Serves a built H5 output on 127.0.0.1, and (`proxyTo`) the reference server's routes on the same origin:
// what `npm run playground` runs for a person, and what test/e2e/h5-runtime.ts opens in Chromium.
import * as fs from 'node:fs'
import * as http from 'node:http'
import * as path from 'node:path'

/** @type {Record<string, string>} */
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
}

/** The reference server's routes: forwarded as they are when there is a `proxyTo`. */
export const API_ROUTES = /^\/(api|auth|__)/

/**
 * @typedef {object} StaticServer
 * @property {string} url `http://127.0.0.1:<port>`
 * @property {string[]} served Paths served (after the SPA fallback), for debugging.
 * @property {() => Promise<void>} close
 */

/**
 * Serves `dir` on `host:port` (127.0.0.1, ephemeral by default). Unknown paths get index.html (SPA fallback).
 * `proxyTo`: /api, /auth and /__* are forwarded there, so page and API share one origin (no CORS involved).
 * `headScript`: JavaScript put first in index.html's <head>, before any app code (the playgrounds read
 * `window.__TOKENRELAY_API__` there).
 * @param {string} dir
 * @param {{ proxyTo?: string, port?: number, host?: string, headScript?: string }} [options]
 * @returns {Promise<StaticServer>}
 */
export async function startStaticServer(dir, options = {}) {
  const root = path.resolve(dir)
  const index = path.join(root, 'index.html')
  if (!fs.existsSync(index)) throw new Error(`${root} has no index.html: build the H5 output first`)
  /** @type {string[]} */
  const served = []
  const proxyTarget = options.proxyTo ? new URL(options.proxyTo) : null
  const server = http.createServer((req, res) => {
    const url = new URL(req.url || '/', 'http://local')
    if (proxyTarget && API_ROUTES.test(url.pathname)) {
      const upstream = http.request(
        {
          host: proxyTarget.hostname,
          port: proxyTarget.port,
          method: req.method,
          path: url.pathname + url.search,
          headers: { ...req.headers, host: proxyTarget.host },
        },
        (up) => {
          res.writeHead(up.statusCode || 502, up.headers)
          up.pipe(res)
        },
      )
      upstream.on('error', () => res.writeHead(502).end())
      req.pipe(upstream)
      return
    }
    let file = path.join(root, decodeURIComponent(url.pathname))
    if (!file.startsWith(root)) {
      res.writeHead(403).end()
      return
    }
    if (!fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      const asIndex = path.join(file, 'index.html')
      file = fs.existsSync(asIndex) ? asIndex : index
    }
    served.push(path.relative(root, file))
    res.writeHead(200, {
      'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream',
      'Cache-Control': 'no-store',
    })
    if (options.headScript && path.extname(file) === '.html') {
      res.end(fs.readFileSync(file, 'utf8').replace(/<head[^>]*>/i, (head) => `${head}<script>${options.headScript}</script>`))
      return
    }
    fs.createReadStream(file).pipe(res)
  })
  const host = options.host || '127.0.0.1'
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port || 0, host, () => resolve(undefined))
  })
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address())
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    served,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
