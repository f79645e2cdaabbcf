// Instructions per delivery, under callgrind: `delivery-instructions.ts <send|agent> <port> <warm-up> <count>`.
// run.ts runs it with `valgrind --tool=callgrind --dump-before='node::CPUUsage*'` and `node --predictable`: each
// process.cpuUsage() below dumps the counts, so the second dump holds exactly the measured deliveries. Imports
// packages only, so that it runs as plain JavaScript (tsx under valgrind would take minutes); the bare loop loads no
// Fastify.
import { Agent } from 'undici'

const [mode = 'send', port = '0', warmUp = '200', count = '1000'] = process.argv.slice(2)
const origin = `http://127.0.0.1:${port}`
const path = '/hooks/invoices'
const payload = { id: 'inv-1', description: 'Invoice paid', paid: true, total: 12.5 }
const body = JSON.stringify(payload)

async function deliverer (): Promise<{ deliver: () => Promise<void>, close: () => Promise<unknown> }> {
  if (mode === 'agent') {
    const agent = new Agent({ connections: 16 })
    const headers = ['content-type', 'application/json', 'webhook-id', 'msg_bench', 'webhook-timestamp', '1', 'webhook-signature', `v1,${'A'.repeat(43)}=`]
    return {
      deliver: async () => {
        const response = await agent.request({ origin, path, method: 'POST', headers, body })
        await response.body.json()
      },
      close: () => agent.close()
    }
  }
  const { default: Fastify } = await import('fastify')
  const { default: swagger } = await import('@fastify/swagger')
  const { default: openapiCallbacks } = await import('fastify-openapi-callbacks')
  const app = Fastify()
  await app.register(swagger, { openapi: { openapi: '3.1.0', info: { title: 'Bench', version: '1.0.0' } } })
  // 16 at a time, as the bare loop's Agent({ connections: 16 })
  await app.register(openapiCallbacks, { delivery: { allowHttp: true, allow: ['127.0.0.1'], secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', concurrency: 16 } })
  const schema = {
    body: { type: 'object', properties: { id: { type: 'string' }, description: { type: 'string' }, paid: { type: 'boolean' }, total: { type: 'number' } }, required: ['id', 'description', 'paid', 'total'] },
    response: { 200: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] } }
  }
  const invoicePaid = app.webhooks.post('invoice-paid', { schema })
  await app.ready()
  return {
    deliver: async () => {
      const result = await app.callbacks.send(invoicePaid, origin + path, payload)
      if (result.outcome !== 'delivered') throw new Error(`send() gave ${result.outcome}`)
    },
    close: () => app.close()
  }
}

async function times (deliver: () => Promise<void>, total: number): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => { while (next++ < total) await deliver() }
  await Promise.all(Array.from({ length: 16 }, worker))
}

async function main (): Promise<void> {
  const { deliver, close } = await deliverer()
  await times(deliver, Number(warmUp))
  process.cpuUsage()
  await times(deliver, Number(count))
  process.cpuUsage()
  await close()
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
