// @ts-check
/**
 * Answering before the request was read (413 body too large, 431 headers too large) without
 * cutting the client off. Closing a socket that still has unread data makes the kernel send a
 * reset, and most clients (Node `fetch`, browsers) then report EPIPE / ECONNRESET instead of the
 * answer. So the answer goes out at once, the rest of what the client sends is read and discarded,
 * and the connection closes after that. Bounded, so a client cannot hold the connection forever.
 *
 * Kept by hand: Fastify answers the 413 of `bodyLimit` and the 431 of its default client error
 * handler, but then destroys the socket (431) or leaves the rest of the body to Node, which closes
 * or reads it without bound.
 */
import http from 'node:http'

/** @typedef {import('./state.js').State} State */

/** Discard at most this much after the answer, then destroy the socket. */
export const DRAIN_MAX_BYTES = 16 * 1024 * 1024
/** ... and for at most this long. */
export const DRAIN_MAX_MS = 5000

/**
 * Call `done` once `stream` has ended, or destroy `socket` once it delivered more than
 * DRAIN_MAX_BYTES or DRAIN_MAX_MS passed; everything read is discarded.
 * @param {State} state its timers are cancelled by `close()`
 * @param {import('node:stream').Readable} stream the request, or the socket itself when no request was parsed
 * @param {import('node:stream').Duplex} socket
 * @param {() => void} done
 */
function drain(state, stream, socket, done) {
  if (stream.readableEnded) return done()
  let drained = 0
  let finished = false
  /** @param {boolean} cutOff */
  const finish = (cutOff) => {
    if (finished) return
    finished = true
    clearTimeout(timer)
    state.timers.delete(timer)
    stream.off('data', onData)
    if (cutOff) socket.destroy()
    else done()
  }
  /** @param {Buffer} chunk */
  const onData = (chunk) => {
    drained += chunk.length
    if (drained > DRAIN_MAX_BYTES) finish(true)
  }
  const timer = setTimeout(() => finish(true), DRAIN_MAX_MS)
  state.timers.add(timer)
  stream.on('data', onData)
  stream.once('end', () => finish(false))
  stream.once('close', () => finish(false))
  stream.resume()
}

/**
 * Send a complete answer now (its content-length tells the client it is whole), drain the rest of
 * the request body, and only then end the response, which closes the connection.
 * @param {State} state
 * @param {import('node:http').IncomingMessage} req
 * @param {import('fastify').FastifyReply} reply headers already set on it (request id, CORS) are kept
 * @param {number} status
 * @param {string} contentType
 * @param {string} body
 */
export function answerEarly(state, req, reply, status, contentType, body) {
  reply.hijack()
  const res = reply.raw
  if (res.destroyed || res.writableEnded) return
  const payload = Buffer.from(body, 'utf8')
  res.writeHead(status, {
    .../** @type {import('node:http').OutgoingHttpHeaders} */ (reply.getHeaders()),
    'content-type': contentType,
    'content-length': String(payload.length),
    connection: 'close',
  })
  if (req.complete) {
    res.end(payload)
    return
  }
  res.write(payload)
  drain(state, req, req.socket, () => res.end())
}

/**
 * `clientErrorHandler` of the server: requests Node's parser refused. Oversized headers get 431,
 * anything else 400; then the socket is half-closed and drained. The parser reports the same error
 * again for every later chunk on the socket: answer once.
 * @param {State} state
 * @returns {(error: Error, socket: import('node:net').Socket) => void}
 */
export function clientErrorHandler(state) {
  /** @type {WeakSet<import('node:net').Socket>} */
  const refused = new WeakSet()
  return (error, socket) => {
    if (refused.has(socket)) return
    const code = /** @type {NodeJS.ErrnoException} */ (error).code
    if (!socket.writable || code === 'ECONNRESET') {
      socket.destroy()
      return
    }
    refused.add(socket)
    const [status, json] =
      code === 'HPE_HEADER_OVERFLOW'
        ? [431, { error: 'request_header_fields_too_large', message: `request headers exceed ${http.maxHeaderSize} bytes` }]
        : [400, { error: 'bad_request', message: 'malformed HTTP request' }]
    const payload = JSON.stringify(json)
    // Half-close: the answer and a FIN go out now, the read side stays open for the drain.
    socket.end(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(payload)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${payload}`,
    )
    drain(state, socket, socket, () => socket.destroy())
  }
}
