// An independent reader of the example's documents: Redocly CLI's lint, with the rules of redocly.yaml.
import { execFile } from 'node:child_process'
import { join, resolve } from 'node:path'
import { test } from 'tap'
import type { Test } from 'tap'
import { Type } from '@sinclair/typebox'
import { buildApp } from '../example/app.js'
import { callbackRouter } from '../lib/index.js'
import { appWith } from './helpers.js'
import type { Json } from './helpers.js'

const ROOT = resolve(__dirname, '..')
const REDOCLY = join(ROOT, 'node_modules', '.bin', 'redocly')
const KEY = '{$request.query.callback_url}/invoices/{$request.body#/id}'

interface Problem { ruleId: string, severity: string, message: string, location: Array<{ pointer: string }> }

/** The errors Redocly's lint finds in a document, as `rule at pointer: message` (warnings are the example's choices: no license, no 4XX responses). */
function lintErrors (t: Test, document: Json): Promise<string[]> {
  const directory = t.testdir({ 'openapi.json': JSON.stringify(document) })
  const file = join(directory, 'openapi.json')
  return new Promise((resolve, reject) => {
    execFile(REDOCLY, ['lint', file, '--config', join(ROOT, 'redocly.yaml'), '--format', 'json'], {
      cwd: directory,
      // offline: no usage data, no check for a newer version
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' }
    }, (error, stdout, stderr) => {
      // lint exits 1 when it finds an error, and prints its report all the same
      if (stdout === '') return reject(new Error(`redocly lint printed no report: ${error?.message}\n${stderr}`))
      const { problems } = JSON.parse(stdout) as { problems: Problem[] }
      resolve(problems.filter(problem => problem.severity === 'error')
        .map(({ ruleId, location, message }) => `${ruleId} at ${location[0]?.pointer}: ${message}`))
    })
  })
}

async function exampleDocument (openapi: string): Promise<Json> {
  const app = await buildApp({ openapi })
  await app.ready()
  const document = app.swagger() as Json
  await app.close()
  return document
}

for (const openapi of ['3.0.3', '3.1.0']) {
  test(`Redocly CLI finds no error in the example's OpenAPI ${openapi} document`, async (t) => {
    const document = await exampleDocument(openapi)
    t.same(await lintErrors(t, document), [], 'no error')
  })
}

test('Redocly CLI reads the callback: one without a summary is an error', async (t) => {
  const document = await exampleDocument('3.1.0')
  delete document.paths['/invoices/'].post.callbacks.invoice_notification[KEY].post.summary
  t.same(await lintErrors(t, document), [
    'operation-summary at #/paths/~1invoices~1/post/callbacks/invoice_notification/' +
    '{$request.query.callback_url}~1invoices~1{$request.body#~1id}/post/summary: Operation object should contain `summary` field.'
  ])
})

test('Redocly CLI resolves a shared Callback Object under components.callbacks, in 3.0 and 3.1, and finds no error', async (t) => {
  for (const openapi of ['3.0.3', '3.1.0']) {
    const app = await appWith({ openapi, pluginOptions: { document: { sharedCallbacks: true } }, swaggerOptions: { openapi: { openapi, info: { title: 'Shared', version: '1.0.0' }, security: [] } } })
    const paid = callbackRouter().post('{$request.body#/callback_url}/paid', { name: 'paid', schema: { body: Type.Object({ id: Type.String() }) } })
    for (const url of ['/orders', '/refunds']) app.post(url, { schema: { summary: `Create ${url}`, body: Type.Object({ callback_url: Type.String() }), callbacks: [paid] } }, async () => ({}))
    await app.ready()
    const document = app.swagger() as Json
    await app.close()
    t.same(document.paths['/orders'].post.callbacks, { paid: { $ref: '#/components/callbacks/paid' } })
    t.same(await lintErrors(t, document), [], openapi)
    // Redocly reads through the $ref: the shared operation is linted like an inline one
    delete document.components.callbacks.paid['{$request.body#/callback_url}/paid'].post.summary
    t.match(await lintErrors(t, document), [/^operation-summary at #\/components\/callbacks\/paid\//], `${openapi}: it reads the component`)
  }
})
