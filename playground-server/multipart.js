// @ts-check
/**
 * A small, strict multipart/form-data parser (RFC 7578) for the reference
 * server's upload route. It works on a fully buffered body: the server caps
 * bodies at `maxBodyBytes` before calling it.
 */

/**
 * @typedef {object} MultipartPart
 * @property {string} name          form field name (`Content-Disposition: form-data; name=...`)
 * @property {string | null} filename  present for file parts
 * @property {string | null} contentType
 * @property {Buffer} data
 */

const CRLF = Buffer.from('\r\n')

/**
 * The boundary of a `multipart/form-data` content type, or null when the type
 * is something else or has no boundary.
 * @param {string | undefined} contentType
 * @returns {string | null}
 */
export function multipartBoundary(contentType) {
  if (!contentType) return null
  const params = splitParams(contentType)
  const type = (params.shift() || '').trim().toLowerCase()
  if (type !== 'multipart/form-data') return null
  for (const param of params) {
    const [key, value] = splitParam(param)
    if (key === 'boundary' && value && value.length <= 70) return value
  }
  return null
}

/**
 * Parse a buffered multipart body. Throws an Error with a readable message
 * when the body is malformed.
 * @param {Buffer} body
 * @param {string} boundary
 * @returns {MultipartPart[]}
 */
export function parseMultipart(body, boundary) {
  const delimiter = Buffer.from('--' + boundary)
  const nextDelimiter = Buffer.concat([CRLF, delimiter])
  let pos = body.indexOf(delimiter)
  if (pos < 0) throw new Error('multipart boundary not found in body')
  /** @type {MultipartPart[]} */
  const parts = []
  for (;;) {
    pos += delimiter.length
    // `--boundary--` closes the body.
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) return parts
    // Optional transport padding, then CRLF.
    while (body[pos] === 0x20 || body[pos] === 0x09) pos++
    if (body[pos] !== 0x0d || body[pos + 1] !== 0x0a) throw new Error('malformed multipart delimiter line')
    pos += 2
    let headerText = ''
    let dataStart
    if (body[pos] === 0x0d && body[pos + 1] === 0x0a) {
      dataStart = pos + 2 // a part without headers
    } else {
      const headerEnd = body.indexOf('\r\n\r\n', pos)
      if (headerEnd < 0) throw new Error('unterminated multipart part headers')
      headerText = body.subarray(pos, headerEnd).toString('utf8')
      dataStart = headerEnd + 4
    }
    const dataEnd = body.indexOf(nextDelimiter, dataStart)
    if (dataEnd < 0) throw new Error('unterminated multipart part (missing closing boundary)')
    parts.push(makePart(headerText, body.subarray(dataStart, dataEnd)))
    pos = dataEnd + 2
  }
}

/**
 * @param {string} headerText
 * @param {Buffer} data
 * @returns {MultipartPart}
 */
function makePart(headerText, data) {
  /** @type {Record<string, string>} */
  const headers = {}
  for (const line of headerText.split('\r\n')) {
    const colon = line.indexOf(':')
    if (colon <= 0) throw new Error('malformed multipart part header: ' + JSON.stringify(line))
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  const disposition = headers['content-disposition']
  if (!disposition) throw new Error('multipart part without Content-Disposition')
  const params = splitParams(disposition)
  if ((params.shift() || '').trim().toLowerCase() !== 'form-data') {
    throw new Error('multipart part is not form-data')
  }
  /** @type {string | null} */
  let name = null
  /** @type {string | null} */
  let filename = null
  for (const param of params) {
    const [key, value] = splitParam(param)
    if (key === 'name') name = value
    else if (key === 'filename') filename = value
  }
  if (name === null) throw new Error('multipart part without a name')
  return { name, filename, contentType: headers['content-type'] || null, data: Buffer.from(data) }
}

/**
 * Split a header value on `;` outside quoted strings.
 * @param {string} value
 * @returns {string[]}
 */
function splitParams(value) {
  /** @type {string[]} */
  const out = []
  let current = ''
  let quoted = false
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]
    if (quoted && ch === '\\' && i + 1 < value.length) {
      current += ch + value[++i]
    } else if (ch === '"') {
      quoted = !quoted
      current += ch
    } else if (ch === ';' && !quoted) {
      out.push(current)
      current = ''
    } else {
      current += ch
    }
  }
  out.push(current)
  return out
}

/**
 * `key=value` or `key="quoted \" value"` → [lower-case key, unquoted value].
 * @param {string} param
 * @returns {[string, string]}
 */
function splitParam(param) {
  const eq = param.indexOf('=')
  if (eq < 0) return [param.trim().toLowerCase(), '']
  const key = param.slice(0, eq).trim().toLowerCase()
  let value = param.slice(eq + 1).trim()
  if (value.length >= 2 && value[0] === '"' && value[value.length - 1] === '"') {
    value = value.slice(1, -1).replace(/\\(.)/g, '$1')
  }
  return [key, value]
}
