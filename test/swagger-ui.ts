// Driving Swagger UI in Debian's Chromium, shared by the browser tests and `npm run screenshot`.
import { chromium } from 'playwright-core'
import type { Browser, Locator, Page } from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'

/** Headless Chromium that reaches nothing but the pages it is sent to: no downloads, no updates, no sync. */
export function launchChromium (): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic']
  })
}

/** An operation's block, found by what its summary line shows: the method and the path (or callback expression, or webhook name). */
export function operation (scope: Page | Locator, method: string, path: string): Locator {
  return scope.locator(`.opblock.opblock-${method}:has(> .opblock-summary .opblock-summary-path[data-path="${path}"])`)
}

/** Opens an operation's block as a click on its summary line does, and waits for its body. */
export async function expand (block: Locator): Promise<void> {
  await block.locator(':scope > .opblock-summary > .opblock-summary-control').click()
  await block.locator(':scope > .no-margin > .opblock-body').waitFor()
}

/** Opens an operation's Callbacks tab, and returns what the tab shows. */
export async function openCallbacks (block: Locator): Promise<Locator> {
  await block.locator('.tab-item', { hasText: 'Callbacks' }).click()
  const callbacks = block.locator('.callbacks-container')
  await callbacks.waitFor()
  return callbacks
}
