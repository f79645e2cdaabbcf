import { buildApp } from './app.js'

async function start (): Promise<void> {
  const port = Number(process.env.PORT ?? 3000)
  const app = await buildApp({ logger: true })
  await app.listen({ port, host: process.env.HOST ?? '127.0.0.1' })
  app.log.info(`Swagger UI: http://127.0.0.1:${port}/docs`)
}

start().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
