// The README and docs/ cannot drift from the code: every TypeScript block in them is type-checked against lib/ (as
// `fastify-openapi-callbacks` and `fastify-openapi-callbacks/bullmq`), the README's complete example is run and its
// document compared with the YAML shown beside it, every option of the exported options types and every error code in lib/util/errors.ts is in docs/reference.md
// with its status (and no other code is), every `npm run` in a shell block is a script of package.json, and every
// relative link and anchor leads somewhere.
//
// A block that is a fragment declares its context in an HTML comment right before it, hidden on GitHub:
//   <!-- prelude: app, router            (named preludes, below: `preludes`)
//   declare const target: CallbackTarget (any further lines: code of its own)
//   -->
// The prelude and the block are checked as one module; a block may use what its prelude declares.
import { test } from 'tap'
import { readFileSync, readdirSync, existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import ts from 'typescript'
import { parse } from 'yaml'
import * as errors from '../lib/util/errors.js'
import { scripts } from '../package.json'

const root = resolve(__dirname, '..')
const pages = ['README.md', ...readdirSync(join(root, 'docs')).filter(name => name.endsWith('.md')).map(name => `docs/${name}`)]
const checkedLanguages = new Set(['ts', 'typescript', 'js', 'javascript'])

const imports = `import Fastify from 'fastify'
import type { FastifyInstance, FastifySchema, FastifyTypeProvider, RouteHandlerMethod } from 'fastify'
import swagger from '@fastify/swagger'
import { Type } from '@sinclair/typebox'
import type { Static, TSchema } from '@sinclair/typebox'
import openapiCallbacks, { callbackRouter } from 'fastify-openapi-callbacks'
import type { CallbackTarget } from 'fastify-openapi-callbacks'
`

/** Named preludes: what most fragments take as already written. */
const preludes = new Map<string, string>([
  ['app', `${imports}
// What @fastify/type-provider-typebox declares, so that request.body is typed from the route's TypeBox schemas
interface TypeBoxProvider extends FastifyTypeProvider { validator: this['schema'] extends TSchema ? Static<this['schema']> : unknown, serializer: this['schema'] extends TSchema ? Static<this['schema']> : unknown }
declare const fastify: FastifyInstance
const app = Fastify().withTypeProvider<TypeBoxProvider>()
declare const handler: RouteHandlerMethod
`],
  ['invoices', `
const Invoice = Type.Object({ id: Type.String(), customer: Type.String(), total: Type.Number() })
type Invoice = Static<typeof Invoice>
const InvoiceEvent = Type.Object({ description: Type.String(), paid: Type.Boolean() })
const InvoiceEventReceived = Type.Object({ ok: Type.Boolean() })
const querystring = Type.Object({ callback_url: Type.Optional(Type.String({ format: 'uri' })) })
const invoicesCallbackRouter = callbackRouter()
const invoiceNotification = invoicesCallbackRouter.post('{$callback_url}/invoices/{$request.body.id}', {
  name: 'invoice_notification',
  schema: { body: InvoiceEvent, response: { 200: InvoiceEventReceived } }
})
declare const target: CallbackTarget
declare const invoice: Invoice
`]
])

/** The parts of a Callback Object the README's YAML shows. */
type Callbacks = Record<string, Record<string, Record<string, {
  summary: string, operationId: string, parameters: Array<{ name: string }>, requestBody: { required: boolean }, responses: Record<string, { description: string }>
}>>>

interface Block { page: string, line: number, language: string, code: string, prelude: string }

/** The fenced blocks of a page, each with the prelude declared in the comment right before it. */
function blocksOf (page: string): Block[] {
  const lines = readFileSync(join(root, page), 'utf8').split('\n')
  const blocks: Block[] = []
  for (let index = 0; index < lines.length; index++) {
    const opening = /^```(\S*)$/.exec(lines[index]!)
    if (opening === null) continue
    const end = lines.indexOf('```', index + 1)
    if (end === -1) throw new Error(`${page}:${index + 1}: a code block that never closes`)
    blocks.push({ page, line: index + 1, language: opening[1]!, code: lines.slice(index + 1, end).join('\n'), prelude: preludeBefore(page, lines, index) })
    index = end
  }
  return blocks
}

function preludeBefore (page: string, lines: string[], fence: number): string {
  if (lines[fence - 1] !== '-->' && !/^<!-- prelude:.*-->$/.test(lines[fence - 1] ?? '')) return ''
  let start = fence - 1
  while (start >= 0 && !lines[start]!.startsWith('<!-- prelude:')) start--
  if (start < 0) throw new Error(`${page}:${fence}: a comment before a code block that is no prelude`)
  const [first = '', ...rest] = lines.slice(start, fence).join('\n').replace(/^<!-- prelude:/, '').replace(/-->$/, '').split('\n')
  const named = first.split(/[\s,]+/).filter(Boolean).map(name => {
    const code = preludes.get(name)
    if (code === undefined) throw new Error(`${page}:${start + 1}: no prelude named "${name}"`)
    return code
  })
  return [...named, ...rest].join('\n')
}

const blocks = pages.flatMap(blocksOf)
const typescriptBlocks = blocks.filter(block => checkedLanguages.has(block.language))

/** Compiler options as tsconfig.json's, resolving the package's own name to lib/, as a bundler would the built one. */
function compilerOptions (): ts.CompilerOptions {
  const config = ts.readConfigFile(join(root, 'tsconfig.json'), ts.sys.readFile)
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, root)
  return {
    ...options,
    noEmit: true,
    module: ts.ModuleKind.Preserve,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    moduleDetection: ts.ModuleDetectionKind.Force,
    paths: {
      'fastify-openapi-callbacks': [join(root, 'lib/index.ts')],
      'fastify-openapi-callbacks/bullmq': [join(root, 'lib/bullmq.ts')]
    }
  }
}

/** A program of lib/ and the given virtual files, as compilerOptions() resolves them. */
function programOf (sources: Map<string, string>): ts.Program {
  const options = compilerOptions()
  const host = ts.createCompilerHost(options)
  const { getSourceFile, fileExists, readFile } = host
  host.fileExists = name => sources.has(name) || fileExists(name)
  host.readFile = name => sources.get(name) ?? readFile(name)
  host.getSourceFile = (name, version, ...rest) => {
    const text = sources.get(name)
    return text === undefined ? getSourceFile(name, version, ...rest) : ts.createSourceFile(name, text, version, true)
  }
  return ts.createProgram([...sources.keys()], options, host)
}

const blockSources = new Map(typescriptBlocks.map(block => [
  join(root, '.docs-blocks', `${block.page.replaceAll('/', '-')}-${block.line}.ts`),
  { block, text: `${block.prelude}\n${block.code}\n` }
]))
/** Each section of docs/reference.md, and the exported option types whose every property it must name. */
const optionSections = [
  { heading: '## Plugin options', types: [['FastifyOpenapiCallbacksOptions', '']] },
  { heading: '## Callback and webhook definitions', types: [['CallbackOptions', ''], ['OperationSchema', 'schema.']] },
  { heading: '## Options (`delivery`)', types: [['DeliveryOptions', '']] },
  { heading: '## Isolation (`delivery.isolation`)', types: [['IsolationOptions', '']] },
  { heading: '## Memory engine', types: [['MemoryEngineOptions', '']] },
  { heading: '## BullMQ engine', types: [['BullmqEngineOptions', '', 'fastify-openapi-callbacks/bullmq']] },
  { heading: '## Receiver', types: [['WebhookReceiverOptions', ''], ['ReplayOptions', 'replay.'], ['VerifyOptions', '']] }
]
const optionTypesFile = join(root, '.docs-blocks', 'option-types.ts')
const optionTypes = optionSections.flatMap(({ types }) => types)
// One program for the blocks and the option types: building it is most of this file's time.
const program = programOf(new Map([
  ...[...blockSources].map(([name, { text }]) => [name, text] as const),
  [optionTypesFile, optionTypes.map(([type, , from = 'fastify-openapi-callbacks']) => `export type { ${type} } from '${from}'\n`).join('')]
]))

test('every TypeScript block of the README and docs/ type-checks against lib/', async t => {
  t.ok(typescriptBlocks.length >= 19, `${typescriptBlocks.length} blocks found`)
  for (const [name, { block, text }] of blockSources) {
    const file = program.getSourceFile(name)!
    const preludeLines = text.split('\n').length - block.code.split('\n').length - 1
    const faults = [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)].map(diagnostic => {
      const line = file.getLineAndCharacterOfPosition(diagnostic.start ?? 0).line - preludeLines
      const where = line < 0 ? `its prelude, line ${line + preludeLines + 1}` : `${block.page}:${block.line + 1 + line}`
      return `${where}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`
    })
    t.same(faults, [], `${block.page}:${block.line} type-checks`)
  }
})

test('the README\'s complete example runs, and documents the callback as the YAML beside it says', async t => {
  const readme = blocks.filter(block => block.page === 'README.md')
  const example = readme.find(block => block.language === 'ts')!
  const shown = readme[readme.indexOf(example) + 1]!
  t.equal(shown.language, 'yaml')
  t.equal(example.prelude, '', 'the example is complete: it needs no prelude')
  const code = example.code
    .replaceAll("from 'fastify-openapi-callbacks'", `from ${JSON.stringify(join(root, 'lib/index.ts'))}`)
    .concat('\nexport { app }\n')
  const commonjs = ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } }).outputText
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...parameters: string[]) => (...values: unknown[]) => Promise<void>
  const module = { exports: {} as { app?: import('fastify').FastifyInstance } }
  await new AsyncFunction('require', 'exports', 'module', commonjs)(createRequire(join(root, 'README.md')), module.exports, module)
  const app = module.exports.app!
  t.teardown(() => app.close())
  await app.ready()
  const document = app.swagger() as unknown as { paths: Record<string, Record<string, { callbacks: Callbacks }>> }
  const callbacks = document.paths['/invoices/']!['post']!.callbacks
  const shownCallbacks = parse(shown.code).callbacks as Callbacks
  t.same(Object.keys(callbacks), Object.keys(shownCallbacks), 'the callbacks\' names')
  for (const [name, expressions] of Object.entries(shownCallbacks)) {
    t.same(Object.keys(callbacks[name] ?? {}), Object.keys(expressions), `${name}: the expressions`)
    for (const [expression, operations] of Object.entries(expressions)) {
      for (const [method, promised] of Object.entries(operations)) {
        const operation = callbacks[name]?.[expression]?.[method]
        t.match(operation, {
          summary: promised.summary,
          operationId: promised.operationId,
          requestBody: { required: promised.requestBody.required },
          responses: Object.fromEntries(Object.entries(promised.responses).map(([status, { description }]) => [status, { description }]))
        }, `${name} ${expression} ${method}`)
        t.same(operation?.parameters.map(parameter => parameter.name), promised.parameters.map(parameter => parameter.name), 'the parameters\' names')
      }
    }
  }
})

test('docs/reference.md names every option of every exported options type, in its section', async t => {
  const reference = readFileSync(join(root, 'docs/reference.md'), 'utf8')
  const sectionOf = (heading: string) => {
    const start = reference.indexOf(`\n${heading}`)
    t.not(start, -1, `${heading} is a section`)
    const end = reference.indexOf('\n## ', start + 1)
    return reference.slice(start, end === -1 ? undefined : end)
  }
  const checker = program.getTypeChecker()
  const exported = new Map(checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(optionTypesFile)!)!).map(symbol => [symbol.name, symbol]))
  for (const { heading, types } of optionSections) {
    const section = sectionOf(heading)
    for (const [type, prefix] of types) {
      const options = checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(checker.getAliasedSymbol(exported.get(type!)!))).map(property => property.name)
      t.ok(options.length > 0, `${type} has options`)
      // `schema` counts as named by its own options' rows (`schema.body`)
      t.same(options.filter(option => !section.includes(`\`${prefix}${option}\``) && !section.includes(`\`${prefix}${option}.`)), [], `${heading}: every option of ${type}`)
    }
  }
})

test('docs/reference.md lists every error code of lib/util/errors.ts, with its status, and no other', async t => {
  const reference = readFileSync(join(root, 'docs/reference.md'), 'utf8')
  const documented = new Map<string, number>()
  for (const [, codes, status] of reference.matchAll(/^\| ((?:`FST_[A-Z0-9_]+`(?:, )?)+) \| (\d{3}) \|/gm)) {
    for (const [, code] of codes!.matchAll(/`(FST_[A-Z0-9_]+)`/g)) documented.set(code!, Number(status))
  }
  const actual = new Map<string, number>(Object.values(errors).map(ErrorType => {
    const error = new ErrorType()
    return [error.code, error.statusCode!]
  }))
  t.same([...actual.keys()].filter(code => !documented.has(code)), [], 'every code is documented')
  t.same([...documented.keys()].filter(code => !actual.has(code)), [], 'every documented code exists')
  t.same([...actual].filter(([code, status]) => documented.get(code) !== status), [], 'with its status')
})

test('every npm command in a shell block is a script of package.json', async t => {
  const commands = blocks.filter(block => block.language === 'sh').flatMap(block => [...block.code.matchAll(/npm (?:run ([\w:-]+)|(test)\b)/g)])
  t.ok(commands.length >= 8, `${commands.length} commands found`)
  for (const [command, name = 'test'] of commands) t.ok(Object.hasOwn(scripts, name), `${command} is a script`)
})

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
const anchorOf = (heading: string) => heading.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-')

test('every relative link of the README and docs/ leads to a file, and to a heading when it names one', async t => {
  for (const page of pages) {
    const text = readFileSync(join(root, page), 'utf8')
    for (const [, address] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(address!)) continue
      const [path = '', anchor] = address!.split('#')
      const target = path === '' ? join(root, page) : resolve(dirname(join(root, page)), path)
      t.ok(existsSync(target), `${page}: ${address} leads to a file`)
      if (anchor === undefined || !existsSync(target)) continue
      const headings = readFileSync(target, 'utf8').split('\n').filter(line => /^#+ /.test(line)).map(line => anchorOf(line.replace(/^#+ /, '')))
      t.ok(headings.includes(anchor), `${page}: ${address} leads to a heading`)
    }
  }
})
