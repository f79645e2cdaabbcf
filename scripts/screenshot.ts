// `npm run screenshot`: the README's picture of Swagger UI's Callbacks tab, taken in Debian's headless Chromium.
import { randomBytes } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import { dirname, relative, resolve } from 'node:path'
import { buildApp } from '../example/app.js'
import { expand, launchChromium, openCallbacks, operation } from '../test/swagger-ui.js'

const OUTPUT = resolve(__dirname, '../docs/callbacks-tab.png')

async function screenshot (): Promise<void> {
  // with a secret, as the example runs: the callback documents its Standard Webhooks signature
  const app = await buildApp({ openapi: '3.1.0', delivery: { secret: `whsec_${randomBytes(32).toString('base64')}` } })
  const browser = await launchChromium()
  try {
    const origin = await app.listen({ host: '127.0.0.1', port: 0 })
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    await page.goto(`${origin}/docs`)
    const invoices = operation(page, 'post', '/invoices/')
    await expand(invoices)
    const callbacks = await openCallbacks(invoices)
    await expand(operation(callbacks, 'post', '{$request.query.callback_url}/invoices/{$request.body#/id}'))
    // from the operation's summary line to the end of the Callbacks tab: the operation's own responses stay out
    await page.evaluate('window.scrollTo(0, 0)')
    const top = await invoices.boundingBox()
    const tab = await callbacks.boundingBox()
    if (top === null || tab === null) throw new Error('the operation or its Callbacks tab is not on the page')
    await mkdir(dirname(OUTPUT), { recursive: true })
    await page.screenshot({
      path: OUTPUT,
      fullPage: true,
      clip: { x: top.x, y: top.y, width: top.width, height: tab.y + tab.height + 16 - top.y }
    })
    console.log(`wrote ${relative(process.cwd(), OUTPUT)}`)
  } finally {
    await browser.close()
    await app.close()
  }
}

screenshot().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
