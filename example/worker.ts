// A delivery worker of the invoice app: the same app, registered with deliver: true and never listening. Run as many
// as needed, on any machine that reaches Redis: REDIS_URL, WEBHOOK_SECRET and ALLOW_HOST come from the environment.
import { bullmqEngine } from '../lib/bullmq.js'
import { buildApp } from './app.js'

async function start (): Promise<void> {
  const { REDIS_URL: connection = 'redis://127.0.0.1:6379', WEBHOOK_SECRET: secret, ALLOW_HOST: host = '127.0.0.1' } = process.env
  const app = await buildApp({
    logger: { base: { app: 'worker' } },
    queue: true,
    // the example's receiver runs on this machine: allowlisted, and plain http allowed
    delivery: { secret, allowHttp: true, allow: [host], engine: bullmqEngine({ connection }), deliver: true }
  })
  await app.ready()
  app.log.info('worker: delivering the invoice callbacks queued in Redis')
  process.once('SIGTERM', () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
  process.once('SIGINT', () => {})
}

start().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
