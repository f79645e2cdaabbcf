// The memory each pending delivery holds in the in-memory queue, beyond its payload: `delivery-memory.ts <count>`,
// run with --expose-gc. Messages are enqueued to a first attempt an hour away, so they all stay pending.
import Fastify from 'fastify'
import swagger from '@fastify/swagger'
import { Type } from '@sinclair/typebox'
import openapiCallbacks, { createMemoryEngine } from 'fastify-openapi-callbacks'

const count = Number(process.argv[2] ?? 100_000)
const gc = (globalThis as { gc?: () => void }).gc!

async function main (): Promise<void> {
  const app = Fastify()
  await app.register(swagger, { openapi: { openapi: '3.1.0', info: { title: 'Bench', version: '1.0.0' } } })
  await app.register(openapiCallbacks, { delivery: { schedule: [3_600_000], jitter: 0, engine: createMemoryEngine({ maxPending: count, maxPendingPerReceiver: count }), onPending: () => {} } })
  const invoicePaid = app.webhooks.post('invoice-paid', {
    schema: { body: Type.Object({ id: Type.String(), description: Type.String(), paid: Type.Boolean(), total: Type.Number() }) }
  })
  await app.ready()
  // the payloads exist before the measure: what is measured is what queueing adds to them
  const payloads = Array.from({ length: count }, (_, index) => ({ id: `inv-${index}`, description: 'Invoice paid', paid: true, total: index }))
  const payloadBytes = Buffer.byteLength(JSON.stringify(payloads[0]))
  await app.callbacks.enqueue(invoicePaid, 'https://hooks.example.com/invoices', payloads[0]!)
  gc()
  const before = process.memoryUsage().heapUsed
  for (let index = 1; index < count; index++) await app.callbacks.enqueue(invoicePaid, 'https://hooks.example.com/invoices', payloads[index]!)
  gc()
  const perMessage = (process.memoryUsage().heapUsed - before) / (count - 1)
  process.stdout.write(JSON.stringify({ perMessage, payloadBytes, beyondPayload: perMessage - payloadBytes }) + '\n')
  await app.close()
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
