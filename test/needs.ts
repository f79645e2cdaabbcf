import { existsSync } from 'node:fs'
import t from 'tap'

/**
 * Runs a test file's `tests` when the program at `path` is installed. Without it they are skipped locally, saying why,
 * but fail under CI=true: CI installs every program its tests need, so a missing one is a broken setup, never a pass.
 */
export function whenInstalled (path: string, missing: string, tests: () => void): void {
  if (!existsSync(path) && !process.env.CI) {
    t.plan(0, missing)
    return
  }
  t.before(() => {
    if (!existsSync(path)) throw new Error(`${missing} (CI never skips them)`)
  })
  tests()
}
