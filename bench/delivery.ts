// One delivery measurement: `delivery.ts <send|baseline> <port> <requests> <concurrency>`. Prints deliveries/s and
// latency percentiles as JSON. `send` goes through app.callbacks.send() (payload validation, Standard Webhooks
// signing, the address policy, response validation); the baseline posts the same bytes with undici.request.
import Fastify from 'fastify'
import swagger from '@fastify/swagger'
import { Type } from '@sinclair/typebox'
import { Agent, request } from 'undici'
import openapiCallbacks from 'fastify-openapi-callbacks'

const [mode = 'send', port = '0', count = '5000', parallel = '16'] = process.argv.slice(2)
const url = `http://127.0.0.1:${port}/hooks/invoices`
const payload = { id: 'inv-1', description: 'Invoice paid', paid: true, total: 12.5 }
const body = JSON.stringify(payload)

async function run (deliver: () => Promise<void>): Promise<{ perSecond: number, p50: number, p99: number }> {
  const latencies: number[] = []
  let next = 0
  const worker = async (): Promise<void> => {
    while (next++ < Number(count)) {
      const start = process.hrtime.bigint()
      await deliver()
      latencies.push(Number(process.hrtime.bigint() - start) / 1e6)
    }
  }
  const start = process.hrtime.bigint()
  await Promise.all(Array.from({ length: Number(parallel) }, worker))
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  latencies.sort((a, b) => a - b)
  const percentile = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]!
  return { perSecond: latencies.length / seconds, p50: percentile(0.5), p99: percentile(0.99) }
}

async function main (): Promise<void> {
  if (mode === 'baseline') {
    const agent = new Agent({ connections: Number(parallel) })
    const deliver = async (): Promise<void> => {
      const response = await request(url, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body })
      await response.body.json()
      if (response.statusCode !== 200) throw new Error(`baseline got ${response.statusCode}`)
    }
    await run(deliver)
    process.stdout.write(JSON.stringify(await run(deliver)) + '\n')
    await agent.close()
    return
  }
  const app = Fastify()
  await app.register(swagger, { openapi: { openapi: '3.1.0', info: { title: 'Bench', version: '1.0.0' } } })
  await app.register(openapiCallbacks, {
    delivery: { allowHttp: true, allow: ['127.0.0.1'], secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', concurrency: Number(parallel) }
  })
  const invoicePaid = app.webhooks.post('invoice-paid', {
    schema: {
      body: Type.Object({ id: Type.String(), description: Type.String(), paid: Type.Boolean(), total: Type.Number() }),
      response: { 200: Type.Object({ ok: Type.Boolean() }) }
    }
  })
  await app.ready()
  const deliver = async (): Promise<void> => {
    const result = await app.callbacks.send(invoicePaid, url, payload)
    if (result.outcome !== 'delivered') throw new Error(`send() gave ${result.outcome}`)
  }
  await run(deliver)
  process.stdout.write(JSON.stringify(await run(deliver)) + '\n')
  await app.close()
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
