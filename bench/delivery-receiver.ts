// The receiver of the delivery bench, in its own process: a Fastify app on 127.0.0.1 answering { ok: true }.
import Fastify from 'fastify'
import { serveOnLoopback } from './serve.js'

async function start (): Promise<void> {
  const app = Fastify()
  app.post('/hooks/invoices', async () => ({ ok: true }))
  await serveOnLoopback(app)
}

start().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
