// The receiver of the delivery bench, in its own process: a Fastify app on 127.0.0.1 answering { ok: true }.
import Fastify from 'fastify'

async function start (): Promise<void> {
  const app = Fastify()
  app.post('/hooks/invoices', async () => ({ ok: true }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  process.stdout.write(`${typeof address === 'object' && address !== null ? address.port : ''}\n`)
  process.on('SIGTERM', () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
}

start().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
