// The published shape, proven on the tarball `npm pack` makes (its prepack script builds dist/):
// attw checks its types, then a scratch project installs it and imports it as ESM, CommonJS and TypeScript.
import { execFile } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import t from 'tap'

const root = join(__dirname, '..')
const name = 'fastify-openapi-callbacks'

// Packing, installing and type-checking take a while, and more on a busy machine or a cold npm cache.
t.setTimeout(10 * 60 * 1000)

// tap records coverage in every process a test spawns: these are tools and the installed copy, not lib/.
const env = { ...process.env, _TAPJS_PROCESSINFO_COVERAGE_: '0' }

interface Result { code: number | string, stdout: string, stderr: string }

function run (command: string, args: string[], cwd: string): Promise<Result> {
  return new Promise(resolve => {
    execFile(command, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : error.code ?? 1, stdout, stderr })
    })
  })
}

async function succeed (command: string, args: string[], cwd: string): Promise<string> {
  const { code, stdout, stderr } = await run(command, args, cwd)
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${code}\n${stdout}\n${stderr}`)
  return stdout
}

async function versionOf (dependency: string): Promise<string> {
  const { version } = JSON.parse(await readFile(join(root, 'node_modules', dependency, 'package.json'), 'utf8'))
  return version
}

const esmCheck = `
import fastify from 'fastify'
import swagger from '@fastify/swagger'
import openapiCallbacks, { callbackRouter, fastifyOpenapiCallbacks } from '${name}'

const app = fastify()
await app.register(swagger, { openapi: { info: { title: 'package test', version: '1.0.0' } } })
await app.register(openapiCallbacks)
await app.ready()
console.log(JSON.stringify({
  resolved: import.meta.resolve('${name}').split('/node_modules/').pop(),
  plugin: typeof openapiCallbacks,
  namedIsPlugin: fastifyOpenapiCallbacks === openapiCallbacks,
  callbackRouter: typeof callbackRouter,
  pluginName: openapiCallbacks[Symbol.for('fastify.display-name')],
  registered: app.hasPlugin('${name}')
}))
`

const cjsCheck = `
const fastify = require('fastify')
const swagger = require('@fastify/swagger')
const openapiCallbacks = require('${name}')

async function main () {
  const app = fastify()
  await app.register(swagger, { openapi: { info: { title: 'package test', version: '1.0.0' } } })
  await app.register(openapiCallbacks)
  await app.ready()
  const esm = await import('${name}')
  console.log(JSON.stringify({
    resolved: require.resolve('${name}').split('/node_modules/').pop(),
    plugin: typeof openapiCallbacks,
    defaultIsPlugin: openapiCallbacks.default === openapiCallbacks,
    namedIsPlugin: openapiCallbacks.fastifyOpenapiCallbacks === openapiCallbacks,
    callbackRouter: typeof openapiCallbacks.callbackRouter,
    esModule: openapiCallbacks.__esModule,
    // every export of the ES module build is a property of the CommonJS plugin, of the same kind
    exportsMissingOrDifferent: Object.keys(esm).filter(key => typeof openapiCallbacks[key] !== typeof esm[key]),
    pluginName: openapiCallbacks[Symbol.for('fastify.display-name')],
    registered: app.hasPlugin('${name}')
  }))
}
main()
`

// The durable engine's entry, once bullmq and ioredis (its optional peers) are installed. Made, never opened: no Redis here.
const bullmqCheck = (load: string, resolve: string): string => `
${load}
const engine = bullmqEngine({ connection: 'redis://127.0.0.1:6379' })
console.log(JSON.stringify({
  resolved: ${resolve}.split('/node_modules/').pop(),
  bullmqEngine: typeof bullmqEngine,
  methods: ['open', 'add', 'work', 'close', 'pending', 'get', 'replay', 'failed'].filter(method => typeof engine[method] === 'function')
}))
`

// The same source is a CommonJS module as .cts and an ES module as .mts.
const typesCheck = `
import fastify from 'fastify'
import swagger from '@fastify/swagger'
import openapiCallbacks, { callbackRouter, fastifyOpenapiCallbacks } from '${name}'
import { bullmqEngine } from '${name}/bullmq'
import type { BullmqEngine, MessageRecord } from '${name}/bullmq'

const app = fastify()
app.register(swagger, { openapi: { info: { title: 'package test', version: '1.0.0' } } })
app.register(openapiCallbacks)
app.register(fastifyOpenapiCallbacks)
const routes: readonly unknown[] = callbackRouter().routes
// @ts-expect-error the plugin has its declared type, not any
const notAPlugin: string = openapiCallbacks
const engine: BullmqEngine = bullmqEngine({ connection: 'redis://127.0.0.1:6379', queueName: 'callbacks' })
const record: Promise<MessageRecord | undefined> = engine.get('msg_1')
// @ts-expect-error the engine's options are typed
bullmqEngine({ connection: 'redis://127.0.0.1:6379', queueName: 1 })
export { routes, notAPlugin, record }
`

let scratch = ''
let tarball = ''

t.before(async () => {
  scratch = await mkdtemp(join(tmpdir(), `${name}-package-`))
  await succeed('npm', ['pack', '--pack-destination', scratch], root)
  const packed = (await readdir(scratch)).filter(file => file.endsWith('.tgz'))
  if (packed.length !== 1) throw new Error(`npm pack made ${packed.length} tarballs in ${scratch}`)
  tarball = join(scratch, packed[0] as string)

  await writeFile(join(scratch, 'package.json'), JSON.stringify({ name: 'scratch', private: true }))
  await writeFile(join(scratch, 'check.mjs'), esmCheck)
  await writeFile(join(scratch, 'check.cjs'), cjsCheck)
  await writeFile(join(scratch, 'bullmq.mjs'), bullmqCheck(`import { bullmqEngine } from '${name}/bullmq'`, `import.meta.resolve('${name}/bullmq')`))
  await writeFile(join(scratch, 'bullmq.cjs'), bullmqCheck(`const { bullmqEngine } = require('${name}/bullmq')`, `require.resolve('${name}/bullmq')`))
  await writeFile(join(scratch, 'check.cts'), typesCheck)
  await writeFile(join(scratch, 'check.mts'), typesCheck)
  await writeFile(join(scratch, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { module: 'nodenext', target: 'es2022', strict: true, noEmit: true, types: ['node'] },
    files: ['check.cts', 'check.mts']
  }))
  // the peers at the versions this project tests with, so npm's cache serves them
  await succeed('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball,
    `fastify@${await versionOf('fastify')}`, `@fastify/swagger@${await versionOf('@fastify/swagger')}`,
    `@types/node@${await versionOf('@types/node')}`], scratch)
})

t.teardown(() => rm(scratch, { recursive: true, force: true }))

t.test('the tarball holds dist, the README, the licence and package.json only', async t => {
  const listing = await succeed('tar', ['-tzf', tarball], scratch)
  const files = listing.split('\n').filter(Boolean)
  t.same(files.filter(file => !/^package\/(dist\/(cjs|esm)\/|README\.md$|LICENSE$|package\.json$)/.test(file)), [])
  for (const file of ['package/LICENSE', 'package/dist/cjs/index.js', 'package/dist/cjs/index.d.ts',
    'package/dist/esm/index.js', 'package/dist/esm/index.d.ts', 'package/dist/esm/package.json',
    'package/dist/cjs/bullmq.js', 'package/dist/cjs/bullmq.d.ts', 'package/dist/esm/bullmq.js', 'package/dist/esm/bullmq.d.ts']) {
    t.ok(files.includes(file), file)
  }
})

t.test('are the types wrong finds no problem for node10, node16 (CJS and ESM) and bundlers', async t => {
  const attw = join(dirname(require.resolve('@arethetypeswrong/cli/package.json')), 'dist/index.js')
  const { code, stdout, stderr } = await run(process.execPath, [attw, tarball, '--format', 'ascii', '--no-color'], scratch)
  t.equal(code, 0, 'attw exits with 0', { stdout, stderr })
  t.match(stdout, /No problems found/)
})

t.test('import: the default export is the plugin, callbackRouter a named export', async t => {
  const output = await succeed(process.execPath, ['check.mjs'], scratch)
  t.same(JSON.parse(output), {
    resolved: `${name}/dist/esm/index.js`,
    plugin: 'function',
    namedIsPlugin: true,
    callbackRouter: 'function',
    pluginName: name,
    registered: true
  })
})

t.test('require: module.exports is the plugin, with .default and every named export', async t => {
  const output = await succeed(process.execPath, ['check.cjs'], scratch)
  t.same(JSON.parse(output), {
    resolved: `${name}/dist/cjs/index.js`,
    plugin: 'function',
    defaultIsPlugin: true,
    namedIsPlugin: true,
    callbackRouter: 'function',
    esModule: true,
    exportsMissingOrDifferent: [],
    pluginName: name,
    registered: true
  })
})

t.test('the main entry runs without bullmq and ioredis, its optional peers for the bullmq entry only', async t => {
  // the import and require checks above ran in this scratch project, where neither is installed
  for (const peer of ['bullmq', 'ioredis']) {
    const { code } = await run(process.execPath, ['-e', `require.resolve('${peer}')`], scratch)
    t.not(code, 0, `${peer} is not installed`)
  }
  const { peerDependenciesMeta } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'))
  t.same(peerDependenciesMeta, { bullmq: { optional: true }, ioredis: { optional: true } })
})

t.test('fastify-openapi-callbacks/bullmq: import and require give the engine factory, once its peers are installed', async t => {
  await succeed('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund',
    `bullmq@${await versionOf('bullmq')}`, `ioredis@${await versionOf('ioredis')}`], scratch)
  const methods = ['open', 'add', 'work', 'close', 'pending', 'get', 'replay', 'failed']
  t.same(JSON.parse(await succeed(process.execPath, ['bullmq.mjs'], scratch)), { resolved: `${name}/dist/esm/bullmq.js`, bullmqEngine: 'function', methods })
  t.same(JSON.parse(await succeed(process.execPath, ['bullmq.cjs'], scratch)), { resolved: `${name}/dist/cjs/bullmq.js`, bullmqEngine: 'function', methods })
})

t.test('the declarations type-check from CommonJS and from ES modules', async t => {
  const { code, stdout, stderr } = await run(process.execPath,
    [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json', '--listFiles'], scratch)
  t.equal(code, 0, 'tsc exits with 0', { stdout, stderr })
  // each mode resolved its own declarations
  const listed = stdout.split('\n')
  t.ok(listed.some(file => file.endsWith(`/node_modules/${name}/dist/cjs/index.d.ts`)), 'check.cts uses dist/cjs')
  t.ok(listed.some(file => file.endsWith(`/node_modules/${name}/dist/esm/index.d.ts`)), 'check.mts uses dist/esm')
  t.ok(listed.some(file => file.endsWith(`/node_modules/${name}/dist/cjs/bullmq.d.ts`)), 'check.cts uses dist/cjs for the bullmq entry')
  t.ok(listed.some(file => file.endsWith(`/node_modules/${name}/dist/esm/bullmq.d.ts`)), 'check.mts uses dist/esm for the bullmq entry')
})
