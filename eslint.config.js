'use strict'

// The layers of lib/: each folder may import only the folders below it. A forbidden import fails lint.
//   util ← definition ← expression ← document                       (definitions → document)
//   util ← definition ← expression ← address-policy, standard-webhooks ← delivery   (target → engine → sender)
//   util ← standard-webhooks                                         (the receiver)
//   util ← outcome-policy ← standard-webhooks, delivery              (what now, after an attempt: pure, no I/O)
const layers = {
  util: ['definition', 'expression', 'document', 'delivery', 'address-policy', 'standard-webhooks', 'outcome-policy'],
  definition: ['expression', 'document', 'delivery', 'address-policy', 'standard-webhooks', 'outcome-policy'],
  expression: ['document', 'delivery', 'address-policy', 'standard-webhooks', 'outcome-policy'],
  document: ['delivery', 'address-policy', 'standard-webhooks', 'outcome-policy'],
  delivery: ['document'],
  'address-policy': ['definition', 'expression', 'document', 'delivery', 'standard-webhooks', 'outcome-policy'],
  'standard-webhooks': ['definition', 'expression', 'document', 'delivery', 'address-policy'],
  'outcome-policy': ['definition', 'expression', 'document', 'delivery', 'address-policy', 'standard-webhooks']
}

module.exports = [
  ...require('neostandard')({
    ts: true,
    ignores: ['dist/**', 'coverage/**', 'node_modules/**', '.tap/**', '.bench/**']
  }),
  ...Object.entries(layers).map(([folder, forbidden]) => ({
    files: [`lib/${folder}/**/*.ts`],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          ...forbidden.map(other => ({ group: [`**/${other}/**`], message: `lib/${folder} must not import lib/${other}: see the layers in eslint.config.js` })),
          { group: ['**/index.js'], message: 'lib/index.ts only wires: nothing in lib imports it' }
        ]
      }]
    }
  }))
]
