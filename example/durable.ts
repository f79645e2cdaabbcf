// `npm run example:durable`: the invoice app on BullMQ and Redis. This process serves the API and only enqueues
// (deliver: false); a separate worker process delivers. Without REDIS_URL, it starts a redis-server of its own in a
// temporary folder, with the append-only file on.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { join } from 'node:path'
import { bullmqEngine } from '../lib/bullmq.js'
import { startRedis } from '../scripts/redis-server.js'
import { buildApp } from './app.js'
import { buildExternalApi } from './external-api.js'

async function start (): Promise<void> {
  const host = process.env.HOST ?? '127.0.0.1'
  const port = Number(process.env.PORT ?? 3000)
  const externalPort = Number(process.env.EXTERNAL_PORT ?? port + 1)
  const secret = `whsec_${randomBytes(32).toString('base64')}`
  const redis = process.env.REDIS_URL === undefined ? await startRedis() : undefined
  // ioredis takes a redis:// URL or a unix socket's path
  const connection = process.env.REDIS_URL ?? redis!.socket

  const external = await buildExternalApi({ secret, logger: { base: { app: 'external-api' } } })
  await external.listen({ port: externalPort, host })
  const worker = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'worker.ts')], {
    stdio: 'inherit',
    env: { ...process.env, REDIS_URL: connection, WEBHOOK_SECRET: secret, ALLOW_HOST: host }
  })
  const app = await buildApp({
    logger: { base: { app: 'invoices' } },
    queue: true,
    delivery: { secret, allowHttp: true, allow: [host], engine: bullmqEngine({ connection }), deliver: false }
  })
  await app.listen({ port, host })

  const origin = `http://${host}:${port}`
  console.log([
    `Swagger UI: ${origin}/docs; Redis: ${connection}; worker process ${worker.pid}`,
    'Create an invoice with a callback_url, then pay it: the callback is stored in Redis, and the worker delivers it. Paste:',
    `curl -s -X POST '${origin}/invoices/?callback_url=http://${host}:${externalPort}' -H 'content-type: application/json' -d '{"id":"inv-1","customer":"Ada","total":12.5}' && curl -s -X POST ${origin}/invoices/inv-1/pay`,
    `Kill the worker (kill -9 ${worker.pid}) before paying: the callback waits in Redis until another worker starts:`,
    `REDIS_URL='${connection}' WEBHOOK_SECRET='${secret}' npm run example:worker`
  ].join('\n'))

  const close = async (): Promise<void> => {
    worker.kill('SIGTERM')
    await Promise.all([app.close(), external.close(), worker.exitCode === null ? once(worker, 'exit') : undefined])
    await redis?.stop()
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => { close().then(() => process.exit(0), () => process.exit(1)) })
  }
}

start().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
