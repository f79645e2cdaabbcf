// What a person sees in Swagger UI (served by @fastify/swagger-ui at /docs), in Debian's headless Chromium.
import t from 'tap'
import type { Test } from 'tap'
import type { Browser, Locator, Page } from 'playwright-core'
import Fastify from 'fastify'
import type { FastifyInstance } from 'fastify'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { Type } from '@sinclair/typebox'
import { buildApp } from '../example/app.js'
import openapiCallbacks, { callbackRouter } from '../lib/index.js'
import { CHROMIUM, expand, launchChromium, openCallbacks, operation } from './swagger-ui.js'
import { whenInstalled } from './needs.js'

const KEY = '{$request.query.callback_url}/invoices/{$request.body#/id}'
// signing is configured, so the document promises the signature
const SECRET = `whsec_${Buffer.alloc(32, 1).toString('base64')}`
const chromiumMissing = `Chromium not found at ${CHROMIUM}: apt-get install chromium to run the browser tests`

whenInstalled(CHROMIUM, chromiumMissing, () => {
  let browser: Browser
  t.before(async () => { browser = await launchChromium() })
  t.teardown(() => browser?.close())

  /** The example's /docs in a fresh page, with Chromium's console errors and any request leaving the app. */
  async function openDocs (t: Test, openapi: string): Promise<{ page: Page, consoleErrors: string[], outside: string[] }> {
    return await openPage(t, await buildApp({ openapi, delivery: { secret: SECRET } }))
  }

  /** An app's /docs in a fresh page, with Chromium's console errors and any request leaving the app; the app is closed after the test. */
  async function openPage (t: Test, app: FastifyInstance): Promise<{ page: Page, consoleErrors: string[], outside: string[] }> {
    const origin = await app.listen({ host: '127.0.0.1', port: 0 })
    const context = await browser.newContext()
    t.teardown(async () => {
      await context.close()
      await app.close()
    })
    const page = await context.newPage()
    // Swagger UI draws in about a second here; a missing element fails the test after this long
    page.setDefaultTimeout(15_000)
    const consoleErrors: string[] = []
    page.on('console', (message) => { if (message.type() === 'error') consoleErrors.push(message.text()) })
    page.on('pageerror', (error) => consoleErrors.push(`${error.name}: ${error.message}`))
    const outside: string[] = []
    page.on('request', (request) => { if (new URL(request.url()).origin !== origin) outside.push(request.url()) })
    await page.goto(`${origin}/docs`)
    return { page, consoleErrors, outside }
  }

  /** Waits until Swagger UI shows an element; if it never does, the test fails saying what is missing. */
  async function shown (locator: Locator, what: string): Promise<void> {
    try {
      await locator.first().waitFor()
    } catch (error) {
      throw new Error(`Swagger UI does not show ${what}`, { cause: error })
    }
  }

  async function seeText (t: Test, locator: Locator, expected: string | RegExp, what: string): Promise<void> {
    await shown(locator, what)
    const text = await locator.textContent()
    if (typeof expected === 'string') t.equal(text, expected, what)
    else t.match(text, expected, what)
  }

  /**
   * The first-level property names in the Schema tab of a request body or response.
   * 3.1 documents are drawn by Swagger UI's JSON Schema 2020-12 renderer, 3.0 ones by its model table,
   * which marks required properties with a star.
   */
  async function schemaProperties (section: Locator, what: string): Promise<string[]> {
    const schemaTab = section.getByRole('tab', { name: 'Schema' })
    await shown(schemaTab, `a Schema tab in ${what}`)
    await schemaTab.click()
    const names = section.locator([
      '.json-schema-2020-12[data-json-schema-level="1"] > .json-schema-2020-12-head > .json-schema-2020-12__title',
      '.model-box .inner-object > table.model > tbody > tr.property-row > td:first-child'
    ].join(', '))
    await shown(names, `the properties of ${what}`)
    return (await names.allTextContents()).map(name => name.replace(/\*$/, ''))
  }

  /**
   * The Standard Webhooks headers as Swagger UI shows them in an operation's Parameters section: one row each, in the
   * header, required, described; and the link to the specification in the operation's description.
   */
  async function seeSignature (t: Test, block: Locator, what: string): Promise<void> {
    const rows = block.locator('.parameters tr[data-param-name]')
    await shown(rows, `the parameters of ${what}`)
    t.same(
      await rows.evaluateAll(found => found.map(row => `${row.getAttribute('data-param-name')} in ${row.getAttribute('data-param-in')}`)),
      ['webhook-id in header', 'webhook-timestamp in header', 'webhook-signature in header'],
      `${what} shows the signature headers as its parameters`
    )
    for (const [name, description] of [['webhook-id', /idempotency key/], ['webhook-timestamp', /Unix seconds/], ['webhook-signature', /HMAC-SHA256 of \{webhook-id\}\.\{webhook-timestamp\}\.\{body\}/]] as const) {
      const row = block.locator(`.parameters tr[data-param-name="${name}"]`)
      await seeText(t, row.locator('.parameter__name'), new RegExp(`^${name}\\s*\\*$`), `${what}: ${name}, marked required`)
      await seeText(t, row.locator('.parameters-col_description'), description, `${what}: ${name}'s description`)
    }
    const link = block.locator('.opblock-description a[href="https://www.standardwebhooks.com/"]')
    await seeText(t, link, 'Standard Webhooks', `${what}: how to verify, with a link to Standard Webhooks`)
  }

  async function assertNothingWrong (t: Test, { page, consoleErrors, outside }: { page: Page, consoleErrors: string[], outside: string[] }): Promise<void> {
    // a $ref Swagger UI cannot resolve is reported in its Errors panel, not in the console
    t.same(await page.locator('.errors-wrapper').allTextContents(), [], 'Swagger UI\'s Errors panel shows nothing')
    t.same(consoleErrors, [], 'Chromium\'s console shows no error')
    t.same(outside, [], 'Swagger UI requests nothing outside the app')
  }

  for (const openapi of ['3.1.0', '3.0.3']) {
    t.test(`POST /invoices/ shows its callback in a Callbacks tab (OpenAPI ${openapi})`, async (t) => {
      const docs = await openDocs(t, openapi)
      const invoices = operation(docs.page, 'post', '/invoices/')
      await expand(invoices)
      await shown(invoices.locator('.tab-item'), 'the tabs of POST /invoices/')
      t.same(await invoices.locator('.tab-item').allTextContents(), ['Parameters', 'Callbacks'], 'the operation has a Callbacks tab')

      const callbacks = await openCallbacks(invoices)
      t.same(await callbacks.locator('h2').allTextContents(), ['invoice_notification'], 'the callback\'s name')
      const callback = callbacks.locator('.opblock')
      t.equal(await callback.count(), 1, 'one callback operation')
      await seeText(t, callback.locator('.opblock-summary-method'), 'POST', 'the callback\'s method')
      await seeText(t, callback.locator('.opblock-summary-path'), KEY, 'the callback\'s normalised expression')
      await seeText(t, callback.locator('.opblock-summary-description'), 'Invoice Notification', 'the callback\'s summary')

      await expand(callback)
      await seeSignature(t, callback, 'the callback')
      const body = callback.locator('.opblock-section-request-body')
      await seeText(t, body.locator('.opblock-title'), 'Request body', 'the callback\'s request body')
      t.same(await schemaProperties(body, 'the callback\'s request body'), ['description', 'paid'], 'the request body\'s properties')
      const ok = callback.locator('.responses-table tr.response[data-code="200"]')
      await seeText(t, ok.locator('.response-col_description .renderedMarkdown'), 'Successful Response', 'the callback\'s 200 response')
      t.same(await schemaProperties(ok, 'the callback\'s 200 response'), ['ok'], 'the 200 response\'s properties')

      await assertNothingWrong(t, docs)
    })
  }

  t.test('a $ref\'d callback, shared under components.callbacks, shows in the Callbacks tab of each route (OpenAPI 3.1.0)', async (t) => {
    const app = Fastify()
    await app.register(swagger, { openapi: { openapi: '3.1.0', info: { title: 'Shared', version: '1.0.0' } } })
    await app.register(openapiCallbacks, { document: { sharedCallbacks: true } })
    await app.register(swaggerUi, { routePrefix: '/docs' })
    const paid = callbackRouter().post('{$request.body#/callback_url}/paid', { name: 'paid', schema: { body: Type.Object({ id: Type.String() }) } })
    for (const url of ['/orders', '/refunds']) app.post(url, { schema: { body: Type.Object({ callback_url: Type.String() }), callbacks: [paid] } }, async () => ({}))
    await app.ready()
    t.same((app.swagger() as any).paths['/refunds'].post.callbacks, { paid: { $ref: '#/components/callbacks/paid' } }, 'the document $refs it')
    const { page, consoleErrors, outside } = await openPage(t, app)
    for (const url of ['/orders', '/refunds']) {
      const route = operation(page, 'post', url)
      await expand(route)
      const callbacks = await openCallbacks(route)
      t.same(await callbacks.locator('h2').allTextContents(), ['paid'], `POST ${url}: the callback's name`)
      const callback = callbacks.locator('.opblock')
      await seeText(t, callback.locator('.opblock-summary-path'), '{$request.body#/callback_url}/paid', `POST ${url}: the shared callback's expression`)
      await seeText(t, callback.locator('.opblock-summary-description'), 'Paid', `POST ${url}: its summary`)
    }
    await assertNothingWrong(t, { page, consoleErrors, outside })
  })

  t.test('the Webhooks section shows new-subscription and its body (OpenAPI 3.1.0)', async (t) => {
    const docs = await openDocs(t, '3.1.0')
    const webhooks = docs.page.locator('.webhooks')
    await seeText(t, webhooks.locator(':scope > h2'), 'Webhooks', 'a Webhooks section')
    const subscription = operation(webhooks, 'post', 'new-subscription')
    await seeText(t, subscription.locator('.opblock-summary-path'), 'new-subscription', 'the webhook new-subscription')

    await expand(subscription)
    await seeText(t, subscription.locator('.opblock-description'), /When a new user subscribes to your service/, 'the webhook\'s description')
    await seeSignature(t, subscription, 'the webhook')
    t.same(
      await schemaProperties(subscription.locator('.opblock-section-request-body'), 'the webhook\'s body'),
      ['username', 'monthly_fee', 'start_date'],
      'the body\'s properties'
    )

    await assertNothingWrong(t, docs)
  })
})
