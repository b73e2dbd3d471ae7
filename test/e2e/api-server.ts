/**
 * A stand-in for the reference server (playground-server/) with the routes the playgrounds call,
 * for smoke tests only: no tokens, every route answers 200. Loopback, ephemeral port, CORS open
 * (H5 pages are served from another port).
 *
 *   const api = await startInlineApiServer()
 *   api.url         // 'http://127.0.0.1:<port>'
 *   api.hits        // [{ method, path, headers }]
 *   await api.close()
 *
 * Routes: GET /api/item/:i → {id, generation}; POST /api/upload (multipart) → {ok, bytes, generation};
 * GET /api/download/:name → 4 KiB of bytes; POST /auth/login {code} → {accessToken, refreshToken,
 * expiresIn}; POST /__control → {ok}. `generation` is the server's token generation: always 1 here.
 */
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ApiHit {
  method: string
  path: string
  headers: http.IncomingHttpHeaders
}

export interface InlineApiServer {
  url: string
  hits: ApiHit[]
  close(): Promise<void>
}

// Origin echoed with credentials allowed: Taro's H5 uploadFile/downloadFile send XHRs with
// withCredentials = true, which a wildcard origin fails.
function cors(req: http.IncomingMessage): Record<string, string> {
  const origin = req.headers.origin
  return {
    'Access-Control-Allow-Origin': origin || '*',
    ...(origin ? { 'Access-Control-Allow-Credentials': 'true', Vary: 'Origin' } : {}),
    'Access-Control-Allow-Methods': 'GET, POST, PUT, DELETE, OPTIONS',
    'Access-Control-Allow-Headers': String(req.headers['access-control-request-headers'] || 'Authorization, Content-Type, X-Requested-With'),
    'Access-Control-Expose-Headers': 'WWW-Authenticate, Content-Disposition',
  }
}

export async function startInlineApiServer(): Promise<InlineApiServer> {
  const hits: ApiHit[] = []
  const server = http.createServer((req, res) => {
    const url = new URL(req.url || '/', 'http://local')
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const CORS = cors(req)
      if (req.method === 'OPTIONS') {
        res.writeHead(204, CORS).end()
        return
      }
      hits.push({ method: req.method || 'GET', path: url.pathname, headers: req.headers })
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { ...CORS, 'Content-Type': 'application/json' }).end(JSON.stringify(value))
      }
      const item = /^\/api\/item\/([^/]+)$/.exec(url.pathname)
      if (req.method === 'GET' && item) return json(200, { id: item[1], generation: 1 })
      if (req.method === 'POST' && url.pathname === '/api/upload') {
        const multipart = /multipart\/form-data/.test(String(req.headers['content-type']))
        return json(multipart ? 200 : 400, { ok: multipart, bytes: body.length, generation: 1 })
      }
      if (req.method === 'GET' && url.pathname.startsWith('/api/download/')) {
        const bytes = Buffer.alloc(4096, 7)
        const name = url.pathname.slice('/api/download/'.length)
        res.writeHead(200, {
          ...CORS,
          'Content-Type': 'application/octet-stream',
          'Content-Length': bytes.length,
          'Content-Disposition': `attachment; filename="${name}"`,
        }).end(bytes)
        return
      }
      if (req.method === 'POST' && url.pathname === '/auth/login') {
        return json(200, { accessToken: 'access-1', refreshToken: 'refresh-1', expiresIn: 3600, generation: 1 })
      }
      if (req.method === 'POST' && url.pathname === '/__control') return json(200, { ok: true })
      json(404, { error: 'not_found' })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}
