import type { FastifyInstance } from 'fastify'

/** Listens on 127.0.0.1, prints the port for bench/run.ts, and closes on SIGTERM. */
export async function serveOnLoopback (app: FastifyInstance): Promise<void> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  process.stdout.write(`${typeof address === 'object' && address !== null ? address.port : ''}\n`)
  process.on('SIGTERM', () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
}
