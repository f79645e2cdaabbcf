import { test } from 'tap'
import { ESLint } from 'eslint'

// The layers of lib/ are enforced by lint (eslint.config.js): a forbidden import fails, an allowed one passes

const cases: Array<[file: string, imported: string, allowed: boolean]> = [
  ['lib/delivery/target.ts', '../document/registry.js', false],
  ['lib/delivery/engines/memory-engine.ts', '../../document/registry.js', false],
  ['lib/document/webhooks.ts', '../delivery/sender.js', false],
  ['lib/definition/definition.ts', '../expression/grammar.js', false],
  ['lib/standard-webhooks/receiver.ts', '../delivery/message.js', false],
  ['lib/address-policy/address-policy.ts', '../delivery/options.js', false],
  ['lib/util/errors.ts', '../definition/definition.js', false],
  ['lib/delivery/api.ts', '../index.js', false],
  ['lib/outcome-policy/outcome-policy.ts', '../delivery/sender.js', false],
  ['lib/document/operation.ts', '../outcome-policy/outcome-policy.js', false],
  ['lib/standard-webhooks/receiver.ts', '../outcome-policy/outcome-policy.js', true],
  ['lib/delivery/runner.ts', '../outcome-policy/outcome-policy.js', true],
  ['lib/delivery/sender.ts', '../standard-webhooks/signing.js', true],
  ['lib/delivery/target.ts', '../address-policy/address-policy.js', true],
  ['lib/document/operation.ts', '../definition/definition.js', true],
  ['lib/definition/definition.ts', '../util/errors.js', true]
]

test('lint refuses an import across the layers, and accepts one down them', async (t) => {
  const eslint = new ESLint()
  for (const [file, imported, allowed] of cases) {
    const [result] = await eslint.lintText(`import { x } from '${imported}'\nexport const y = x\n`, { filePath: file })
    const refusals = result!.messages.filter(message => message.ruleId === 'no-restricted-imports')
    t.equal(refusals.length, allowed ? 0 : 1, `${file} imports ${imported}: ${allowed ? 'allowed' : 'refused'}`)
  }
})
