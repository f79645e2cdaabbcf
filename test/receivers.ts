import http from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import Fastify from 'fastify'
import type { FastifyBaseLogger } from 'fastify'

/** What a receiver got: one entry per request, with the raw body the signature covers. */
export interface Received {
  method: string
  url: string
  headers: http.IncomingHttpHeaders
  /** Names and values as they came, in pairs: Node's `headers` cannot hold one named `__proto__`. */
  rawHeaders: string[]
  body: string
}

export type Handler = (request: Received, response: http.ServerResponse) => void

export interface Receiver {
  /** http://127.0.0.1:port */
  origin: string
  received: Received[]
  /** How the next requests are answered. Default: 200 `{ ok: true }`. */
  answer: (handler: Handler) => void
  /** Resolves once `count` requests in all have arrived. */
  arrived: (count: number) => Promise<void>
  close: () => Promise<void>
}

export const ok: Handler = (_, response) => {
  response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
}

/** A plain node:http receiver on 127.0.0.1, where every test controls the answer, down to the socket. */
export async function startReceiver (handler: Handler = ok): Promise<Receiver> {
  const received: Received[] = []
  let current = handler
  const waiting: Array<{ count: number, resolve: () => void }> = []
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', chunk => chunks.push(chunk))
    request.on('end', () => {
      const entry = { method: request.method!, url: request.url!, headers: request.headers, rawHeaders: request.rawHeaders, body: Buffer.concat(chunks).toString() }
      received.push(entry)
      current(entry, response)
      for (const waiter of waiting.filter(({ count }) => received.length >= count)) {
        waiting.splice(waiting.indexOf(waiter), 1)
        waiter.resolve()
      }
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${port}`,
    received,
    answer: (next) => { current = next },
    arrived: (count) => received.length >= count
      ? Promise.resolve()
      : new Promise(resolve => { waiting.push({ count, resolve }) }),
    close: () => {
      server.closeAllConnections()
      return new Promise(resolve => server.close(() => resolve()))
    }
  }
}

/** A receiver that answers 200 and asks the sender to keep each connection ten minutes: only the sender's close ends it sooner. */
export async function keptAliveReceiver (): Promise<{ origin: string, sockets: Socket[], close: () => Promise<void> }> {
  const sockets: Socket[] = []
  const server = http.createServer((_, response) => {
    response.writeHead(200, { 'content-type': 'application/json', 'keep-alive': 'timeout=600' }).end('{"ok":true}')
  })
  server.keepAliveTimeout = 600_000
  server.on('connection', socket => sockets.push(socket))
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sockets,
    close: () => {
      server.closeAllConnections()
      return new Promise(resolve => server.close(() => resolve()))
    }
  }
}

/** A logger that keeps its entries, to check what the plugin logs. */
export function recordingLogger (): { log: FastifyBaseLogger, entries: Array<Record<string, any>> } {
  const entries: Array<Record<string, any>> = []
  const app = Fastify({ logger: { level: 'debug', stream: { write: (line: string) => { entries.push(JSON.parse(line)) } } } })
  return { log: app.log, entries }
}
