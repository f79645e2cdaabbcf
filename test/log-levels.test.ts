import { test } from 'tap'
import type { OutcomeEvent } from '../lib/index.js'
import { appWith } from './helpers.js'
import { startReceiver } from './receivers.js'

/** An app logging at `level`, its lines kept, and a webhook whose outcomes `outcome()` waits for. */
async function sender (level: string) {
  const lines: Array<Record<string, any>> = []
  let waiting: ((event: OutcomeEvent) => void) | undefined
  const app = await appWith({
    openapi: '3.1.0',
    pluginOptions: { delivery: { allowHttp: true, allow: ['127.0.0.1'], schedule: [0], onOutcome: (event) => { waiting?.(event) } } },
    serverOptions: { logger: { level, stream: { write: (line: string) => { lines.push(JSON.parse(line)) } } } }
  })
  const event = app.webhooks.post('event')
  await app.ready()
  return { app, lines, event, outcome: () => new Promise<OutcomeEvent>(resolve => { waiting = resolve }) }
}

test('at info, a delivered attempt writes no line and a delivered message one; failures are warnings', async (t) => {
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const { app, lines, event, outcome } = await sender('info')
  t.teardown(() => app.close())

  const sent = await app.callbacks.send(event, receiver.origin, undefined)
  t.equal(sent.outcome, 'delivered')
  t.same(lines.filter(line => line.messageId === sent.messageId), [], 'send() delivered: nothing at info')

  const delivered = outcome()
  const { id } = await app.callbacks.enqueue(event, receiver.origin, undefined)
  await delivered
  t.match(lines.filter(line => line.messageId === id), [{ level: 30, msg: 'message delivered', outcome: 'delivered', attempts: 1 }], 'only the outcome, at info')

  receiver.answer((_, response) => { response.writeHead(500).end() })
  const failed = await app.callbacks.send(event, receiver.origin, undefined)
  t.match(lines.filter(line => line.messageId === failed.messageId), [{ level: 40, msg: 'attempt retryable', statusCode: 500, err: { code: 'FST_OPENAPI_CALLBACKS_RECEIVER_STATUS' } }])
})

test('at debug, every delivered attempt is written; at error, not even a failed message', async (t) => {
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const verbose = await sender('debug')
  t.teardown(() => verbose.app.close())
  const sent = await verbose.app.callbacks.send(verbose.event, receiver.origin, undefined)
  t.match(verbose.lines.filter(line => line.messageId === sent.messageId), [{ level: 20, msg: 'attempt delivered', attempt: 1, statusCode: 200 }])

  const quiet = await sender('error')
  t.teardown(() => quiet.app.close())
  receiver.answer((_, response) => { response.writeHead(500).end() })
  const exhausted = quiet.outcome()
  await quiet.app.callbacks.enqueue(quiet.event, receiver.origin, undefined)
  t.equal((await exhausted).outcome, 'exhausted')
  receiver.answer((_, response) => { response.writeHead(200).end() })
  const delivered = quiet.outcome()
  await quiet.app.callbacks.enqueue(quiet.event, receiver.origin, undefined)
  t.equal((await delivered).outcome, 'delivered')
  t.same(quiet.lines, [], 'nothing below error is written')
})

test('a logger without isLevelEnabled is given every line, except at a level whose method is a no-op, as Fastify\'s own when logging is off', async (t) => {
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const written: Array<[level: string, fields: unknown]> = []
  const record = (level: string) => function (fields: unknown) { written.push([level, fields]) }
  // a method named noop is taken for one that writes nothing, so it is never called with fields made for it
  const noop = Object.defineProperty(record('debug (noop)'), 'name', { value: 'noop' })
  const logger = { level: 'custom', info: record('info'), warn: record('warn'), error: record('error'), fatal: record('fatal'), trace: record('trace'), debug: record('debug'), child: () => logger }
  for (const [debug, expected] of [[record('debug'), ['debug']], [noop, []]] as const) {
    written.length = 0
    logger.debug = debug
    const app = await appWith({ openapi: '3.1.0', pluginOptions: { delivery: { allowHttp: true, allow: ['127.0.0.1'] } }, serverOptions: { loggerInstance: logger as never } })
    const event = app.webhooks.post('event')
    await app.ready()
    const sent = await app.callbacks.send(event, receiver.origin, undefined)
    t.equal(sent.outcome, 'delivered')
    t.same(written.filter(([, fields]) => (fields as { messageId?: string } | undefined)?.messageId === sent.messageId).map(([level]) => level), expected)
    await app.close()
  }
})
