'use strict'

// Builds dist/cjs and dist/esm from lib/ with the project's TypeScript.
const { spawnSync } = require('node:child_process')
const { appendFileSync, readFileSync, rmSync, writeFileSync } = require('node:fs')
const { join } = require('node:path')

const root = join(__dirname, '..')
const tsc = require.resolve('typescript/bin/tsc')

rmSync(join(root, 'dist'), { recursive: true, force: true })
for (const config of ['tsconfig.cjs.json', 'tsconfig.esm.json']) {
  const { status } = spawnSync(process.execPath, [tsc, '-p', join(root, config)], { cwd: root, stdio: 'inherit' })
  if (status !== 0) {
    console.error(`build: tsc -p ${config} failed`)
    process.exit(status ?? 1)
  }
}

// The package root is CommonJS: this marks the .js files of dist/esm as ES modules.
writeFileSync(join(root, 'dist/esm/package.json'), JSON.stringify({ type: 'module' }) + '\n')

// Fastify plugins are the module itself under require(), with .default and the named exports as properties.
// TypeScript's CommonJS output only sets exports.default, so the entry gets two lines that make the plugin
// module.exports and copy every named export onto it. __esModule stays, so the default-import interop of
// TypeScript and bundlers still finds .default (the same plugin).
const cjsEntry = join(root, 'dist/cjs/index.js')
if (!/^exports\.default = /m.test(readFileSync(cjsEntry, 'utf8'))) {
  console.error(`build: ${cjsEntry} has no default export; lib/index.ts must export the plugin as default`)
  process.exit(1)
}
appendFileSync(cjsEntry, `
// scripts/build.js: require() returns the plugin itself, with .default and the named exports
module.exports = Object.assign(exports.default, exports);
Object.defineProperty(module.exports, '__esModule', { value: true });
`)
