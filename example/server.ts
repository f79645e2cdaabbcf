import { randomBytes } from 'node:crypto'
import { buildApp } from './app.js'
import { buildZodApp } from './zod-app.js'
import { buildExternalApi } from './external-api.js'

async function start (): Promise<void> {
  const host = process.env.HOST ?? '127.0.0.1'
  const port = Number(process.env.PORT ?? 3000)
  const externalPort = Number(process.env.EXTERNAL_PORT ?? port + 1)
  // The secret the invoice app signs with and the external API verifies with; a real one is stored, not made up at startup
  const secret = `whsec_${randomBytes(32).toString('base64')}`

  const external = await buildExternalApi({ secret, logger: { base: { app: 'external-api' } } })
  await external.listen({ port: externalPort, host })
  // The external API runs on this machine, so its address is allowlisted and http allowed: by default only
  // https to public addresses is reached
  // `--zod`: the same app with zod schemas (zod-app.ts)
  const build = process.argv.includes('--zod') ? buildZodApp : buildApp
  const app = await build({ logger: { base: { app: 'invoices' } }, delivery: { secret, allowHttp: true, allow: [host] } })
  await app.listen({ port, host })

  const origin = `http://${host}:${port}`
  // plain lines, not JSON log entries, so that the command can be pasted as it is
  console.log([
    `Swagger UI: ${origin}/docs`,
    'Create an invoice with a callback_url, then pay it: the external API receives the signed callback. Paste:',
    `curl -s -X POST '${origin}/invoices/?callback_url=http://${host}:${externalPort}' -H 'content-type: application/json' -d '{"id":"inv-1","customer":"Ada","total":12.5}' && curl -s -X POST ${origin}/invoices/inv-1/pay`
  ].join('\n'))

  const close = (): void => {
    Promise.all([app.close(), external.close()]).then(() => process.exit(0), () => process.exit(1))
  }
  process.once('SIGINT', close)
  process.once('SIGTERM', close)
}

start().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
