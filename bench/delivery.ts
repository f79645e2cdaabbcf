// One round of the delivery bench: `delivery.ts <port> <requests> <concurrency> <round>`. Every mode posts the same
// signed bytes to the same receiver, in this one process, each warmed first; the round number sets which goes first.
// Prints { mode: { perSecond, p50, p99 } } as JSON.
//   agent      the strongest bare loop: agent.request({ origin, path }), headers made once
//   request    undici's top-level request(url) wrapper on the same kind of Agent
//   send       app.callbacks.send(): payload validation, signing, the address policy, the answer read and validated; logging off
//   send-info  the same with Fastify's real pino logger at info, written to /dev/null
//   sw-fetch   what users write instead: the standardwebhooks package signs, the global fetch sends
//   sw-undici  standardwebhooks signs, undici.request(url) sends
import Fastify from 'fastify'
import type { FastifyServerOptions } from 'fastify'
import swagger from '@fastify/swagger'
import { Type } from '@sinclair/typebox'
import { Webhook } from 'standardwebhooks'
import { Agent, request } from 'undici'
import openapiCallbacks from 'fastify-openapi-callbacks'
import { measureLoop } from './loop.js'
import type { LoopRun } from './loop.js'

const [port = '0', count = '5000', parallel = '16', round = '0'] = process.argv.slice(2)
const origin = `http://127.0.0.1:${port}`
const path = '/hooks/invoices'
const url = origin + path
const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
const payload = { id: 'inv-1', description: 'Invoice paid', paid: true, total: 12.5 }
const body = JSON.stringify(payload)
const concurrency = Number(parallel)

type Deliver = () => Promise<void>

function expectOk (statusCode: number, what: string): void {
  if (statusCode !== 200) throw new Error(`${what} got ${statusCode}`)
}

/** The headers send() puts on the wire, made once: the bare loops pay neither signing nor a message id. */
function signedHeaders (): Record<string, string> {
  const timestamp = new Date()
  return {
    'user-agent': 'bench',
    'content-type': 'application/json',
    'webhook-id': 'msg_bench',
    'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign('msg_bench', timestamp, body)
  }
}

async function pluginSender (logger: FastifyServerOptions['logger']): Promise<{ deliver: Deliver, close: () => Promise<void> }> {
  const app = Fastify({ logger })
  await app.register(swagger, { openapi: { openapi: '3.1.0', info: { title: 'Bench', version: '1.0.0' } } })
  await app.register(openapiCallbacks, { delivery: { allowHttp: true, allow: ['127.0.0.1'], secret, concurrency } })
  const invoicePaid = app.webhooks.post('invoice-paid', {
    schema: {
      body: Type.Object({ id: Type.String(), description: Type.String(), paid: Type.Boolean(), total: Type.Number() }),
      response: { 200: Type.Object({ ok: Type.Boolean() }) }
    }
  })
  await app.ready()
  return {
    deliver: async () => {
      const result = await app.callbacks.send(invoicePaid, url, payload)
      if (result.outcome !== 'delivered') throw new Error(`send() gave ${result.outcome}`)
    },
    close: () => app.close()
  }
}

async function main (): Promise<void> {
  const headers = signedHeaders()
  const flatHeaders = Object.entries(headers).flat()
  const agents = Array.from({ length: 3 }, () => new Agent({ connections: concurrency }))
  const [bare, wrapped, peer] = agents as [Agent, Agent, Agent]
  const webhook = new Webhook(secret)
  const peerHeaders = (): Record<string, string> => {
    const id = `msg_${crypto.randomUUID()}`
    const timestamp = new Date()
    return {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
      'webhook-signature': webhook.sign(id, timestamp, body)
    }
  }
  const quiet = await pluginSender(false)
  const logged = await pluginSender({ level: 'info', file: '/dev/null' })
  const modes: Record<string, Deliver> = {
    agent: async () => {
      const response = await bare.request({ origin, path, method: 'POST', headers: flatHeaders, body })
      await response.body.json()
      expectOk(response.statusCode, 'agent.request')
    },
    request: async () => {
      const response = await request(url, { method: 'POST', dispatcher: wrapped, headers, body })
      await response.body.json()
      expectOk(response.statusCode, 'undici.request')
    },
    send: quiet.deliver,
    'send-info': logged.deliver,
    'sw-fetch': async () => {
      const response = await fetch(url, { method: 'POST', headers: peerHeaders(), body })
      await response.json()
      expectOk(response.status, 'fetch')
    },
    'sw-undici': async () => {
      const response = await request(url, { method: 'POST', dispatcher: peer, headers: peerHeaders(), body })
      await response.body.json()
      expectOk(response.statusCode, 'standardwebhooks + undici')
    }
  }
  // rotate the order by round, and reverse it every other round: no mode always runs first, or last
  const names = Object.keys(modes)
  const shift = Number(round) % names.length
  const order = [...names.slice(shift), ...names.slice(0, shift)]
  if (Number(round) % 2 === 1) order.reverse()
  const runs: Record<string, LoopRun> = {}
  // fetch is several times slower: a quarter of the deliveries gives it about as long as the others
  const countOf = (name: string): number => name === 'sw-fetch' ? Math.ceil(Number(count) / 4) : Number(count)
  for (const name of order) await measureLoop(modes[name]!, Math.ceil(countOf(name) / 4), concurrency)
  for (const name of order) runs[name] = await measureLoop(modes[name]!, countOf(name), concurrency)
  process.stdout.write(JSON.stringify(runs) + '\n')
  await Promise.all([quiet.close(), logged.close(), ...agents.map(agent => agent.close())])
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
