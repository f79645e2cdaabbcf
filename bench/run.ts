// `npm run bench`: every row compares the plugin with a baseline measured in the same run, interleaved,
// over several runs; it prints the median ratio and its spread (min–max). Nothing here is a test.
import { execFileSync, spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { once } from 'node:events'
import autocannon from 'autocannon'
import ts from 'typescript'
import { median, ratioRow } from './rows.js'
import type { Row } from './rows.js'
import type { LoopRun } from './loop.js'
import { durableRows } from './durable-rows.js'
import { isolationRows } from './isolation-rows.js'

/**
 * The bench's child processes run as plain JavaScript, transpiled once into .bench/: tsx would add a few hundred
 * milliseconds to each of the many processes, and under valgrind it takes minutes to load.
 */
function compileChildren (): void {
  mkdirSync('.bench', { recursive: true })
  for (const file of readdirSync('bench').filter(name => name.endsWith('.ts'))) {
    const { outputText } = ts.transpileModule(readFileSync(path.join('bench', file), 'utf8'), { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } })
    // the bench's own modules, by their compiled names
    writeFileSync(path.join('.bench', file.replace(/\.ts$/, '.mjs')), outputText.replace(/from '\.\/([\w-]+)\.js'/g, "from './$1.mjs'"))
  }
}

const child = (name: string): string => `.bench/${name}.mjs`

function documentRun (mode: 'plugin' | 'raw', routes: number): number {
  const output = execFileSync(process.execPath, [child('document'), mode, String(routes)], { encoding: 'utf8' })
  return (JSON.parse(output) as { milliseconds: number }).milliseconds
}

function documentRows (): Row[] {
  const rows: Row[] = []
  const sizes: Array<[number, number]> = []
  // 15 rounds at 1,000 routes, so that the spread is stable; each round alternates which mode runs first
  for (const [routes, runs] of [[100, 9], [1000, 15], [10000, 3]] as const) {
    const raw: number[] = []
    const plugin: number[] = []
    for (let run = 0; run < runs; run++) {
      if (run % 2 === 0) raw.push(documentRun('raw', routes))
      plugin.push(documentRun('plugin', routes))
      if (run % 2 === 1) raw.push(documentRun('raw', routes))
    }
    rows.push(ratioRow('document', `ready() + swagger(), ${routes} routes × 2 callbacks`, 'ms', raw, plugin, routes === 100 ? 'growth' : '≤ 1.05'))
    sizes.push([routes, median(plugin)])
  }
  // linear growth: each added route costs about the same, whatever the size
  const marginal = sizes.slice(1).map(([routes, milliseconds], index) => {
    const [fewer, before] = sizes[index]!
    return `${fewer}→${routes}: ${((milliseconds - before) * 1000 / (routes - fewer)).toFixed(0)} µs`
  })
  rows.push({ part: 'document', measure: 'plugin, cost of each added route', baseline: '', subject: marginal.join(', '), ratio: '', spread: '', target: 'linear' })
  return rows
}

async function startServer (mode: 'plugin' | 'baseline'): Promise<{ port: number, child: ChildProcess }> {
  const server = spawn(process.execPath, [child('request-server'), mode], { stdio: ['ignore', 'pipe', 'inherit'] })
  const [chunk] = await once(server.stdout!, 'data') as [Buffer]
  return { port: Number(chunk.toString().trim()), child: server }
}

async function requestsPerSecond (port: number, seconds: number): Promise<number> {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/invoices/?callback_url=https://example.org/hooks`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'inv-1', total: 12.5 }),
    connections: 10,
    duration: seconds
  })
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`the request bench saw ${result.non2xx} non-2xx answers and ${result.errors} errors`)
  return result.requests.average
}

async function requestRows (): Promise<Row[]> {
  const baseline = await startServer('baseline')
  const plugin = await startServer('plugin')
  try {
    await requestsPerSecond(baseline.port, 2)
    await requestsPerSecond(plugin.port, 2)
    const without: number[] = []
    const withPlugin: number[] = []
    for (let round = 0; round < 6; round++) {
      // alternate which goes first, so drift in the machine's load falls on both
      if (round % 2 === 0) {
        without.push(await requestsPerSecond(baseline.port, 4))
        withPlugin.push(await requestsPerSecond(plugin.port, 4))
      } else {
        withPlugin.push(await requestsPerSecond(plugin.port, 4))
        without.push(await requestsPerSecond(baseline.port, 4))
      }
    }
    return [ratioRow('request path', 'req/s, route declaring callbacks, none sent', 'req/s', without, withPlugin, '≥ 0.99', 0)]
  } finally {
    baseline.child.kill('SIGTERM')
    plugin.child.kill('SIGTERM')
  }
}

type DeliveryRound = Record<'agent' | 'request' | 'send' | 'send-info' | 'sw-fetch' | 'sw-undici', LoopRun>

const DELIVERY_ROUNDS = 15

function deliveryRound (port: number, round: number): DeliveryRound {
  const output = execFileSync(process.execPath, [child('delivery'), String(port), '8000', '16', String(round)], { encoding: 'utf8' })
  return JSON.parse(output) as DeliveryRound
}

async function startReceiver (): Promise<{ port: number, child: ChildProcess }> {
  const receiver = spawn(process.execPath, [child('delivery-receiver')], { stdio: ['ignore', 'pipe', 'inherit'] })
  const [chunk] = await once(receiver.stdout!, 'data') as [Buffer]
  return { port: Number(chunk.toString().trim()), child: receiver }
}

async function deliveryRows (port: number): Promise<Row[]> {
  const rounds = Array.from({ length: DELIVERY_ROUNDS }, (_, round) => deliveryRound(port, round))
  const perSecond = (mode: keyof DeliveryRound): number[] => rounds.map(round => round[mode].perSecond)
  const baselines = [['agent', 'bare agent.request({ origin, path })'], ['request', 'bare undici.request(url)']] as const
  const subjects = [
    ['send', 'send(), logging off', { agent: '≥ 0.85', request: '≥ 0.95' }],
    ['send-info', 'send(), pino at info', { agent: '', request: '' }],
    ['sw-fetch', 'peer: standardwebhooks + fetch', { agent: '', request: '' }],
    ['sw-undici', 'peer: standardwebhooks + undici.request', { agent: '', request: '' }]
  ] as const
  const rows: Row[] = []
  for (const [baseline, baselineName] of baselines) {
    for (const [subject, subjectName, targets] of subjects) {
      rows.push(ratioRow('delivery', `${subjectName} vs ${baselineName}, deliveries/s, 16 at a time`, '/s', perSecond(baseline), perSecond(subject), targets[baseline], 0))
    }
  }
  const latency = (mode: keyof DeliveryRound, key: 'p50' | 'p99'): number => median(rounds.map(round => round[mode][key]))
  const added = (key: 'p50' | 'p99'): string => {
    const difference = latency('send', key) - latency('agent', key)
    return `${difference < 0 ? '−' : '+'}${Math.abs(difference).toFixed(3)} ms`
  }
  // where a delivery's time goes in the sender: callgrind counts user space only, the kernel's socket work is here
  const cpu = (mode: keyof DeliveryRound): string => `${median(rounds.map(round => round[mode].userMicros)).toFixed(1)} / ${median(rounds.map(round => round[mode].systemMicros)).toFixed(1)} µs`
  rows.push({ part: 'delivery', measure: 'sender CPU per delivery, user / kernel (process.cpuUsage), send() vs agent.request', baseline: cpu('agent'), subject: cpu('send'), ratio: '', spread: '', target: '' })
  rows.push({ part: 'delivery', measure: 'added latency of send(), p50 / p99, vs agent.request', baseline: `${latency('agent', 'p50').toFixed(3)} / ${latency('agent', 'p99').toFixed(3)} ms`, subject: `${latency('send', 'p50').toFixed(3)} / ${latency('send', 'p99').toFixed(3)} ms`, ratio: `${added('p50')} / ${added('p99')}`, spread: '', target: '' })
  return rows
}

const INSTRUCTIONS_WARM_UP = 100
const INSTRUCTIONS_COUNTED = 400

/** Instructions the sender runs per delivery, counted by callgrind between two marks; both modes at once, one per core. */
async function instructionRow (port: number): Promise<Row> {
  const driver = child('delivery-instructions')
  const directory = mkdtempSync(path.join(os.tmpdir(), 'bench-callgrind-'))
  const count = async (mode: 'agent' | 'send'): Promise<number> => {
    const child = spawn('valgrind', [
      '--tool=callgrind', '--dump-before=node::CPUUsage*', `--callgrind-out-file=${path.join(directory, mode)}`,
      process.execPath, '--predictable', driver, mode, String(port), String(INSTRUCTIONS_WARM_UP), String(INSTRUCTIONS_COUNTED)
    ], { stdio: 'ignore' })
    const [code] = await once(child, 'exit') as [number]
    if (code !== 0) throw new Error(`callgrind of ${mode} exited with ${code}`)
    // the second dump: from the first mark to the second, the counted deliveries only
    const totals = /^totals: (\d+)/m.exec(readFileSync(path.join(directory, `${mode}.2`), 'utf8'))
    return Number(totals![1]) / INSTRUCTIONS_COUNTED
  }
  try {
    const [agent, send] = await Promise.all([count('agent'), count('send')])
    return {
      part: 'delivery',
      measure: `instructions per delivery (callgrind, node --predictable, ${INSTRUCTIONS_COUNTED} deliveries), send() vs agent.request`,
      baseline: `${(agent / 1000).toFixed(1)} k`,
      subject: `${(send / 1000).toFixed(1)} k`,
      ratio: (agent / send).toFixed(3),
      spread: 'one run',
      target: ''
    }
  } finally {
    rmSync(directory, { recursive: true, force: true })
  }
}

function memoryRow (): Row {
  const runs = Array.from({ length: 3 }, () => {
    const output = execFileSync(process.execPath, ['--expose-gc', child('delivery-memory'), '100000'], { encoding: 'utf8' })
    return JSON.parse(output) as { beyondPayload: number, payloadBytes: number }
  })
  const beyond = runs.map(run => run.beyondPayload)
  return {
    part: 'delivery',
    measure: `bytes each pending delivery holds beyond its ${runs[0]!.payloadBytes}-byte payload, 100,000 pending`,
    baseline: '',
    subject: `${median(beyond).toFixed(0)} B`,
    ratio: '',
    spread: `${Math.min(...beyond).toFixed(0)}–${Math.max(...beyond).toFixed(0)} B`,
    target: '≤ 512 B'
  }
}

function print (rows: Row[]): void {
  const header: Row = { part: 'part', measure: 'measure', baseline: 'baseline (median)', subject: 'plugin (median)', ratio: 'ratio', spread: 'spread', target: 'target' }
  const keys = Object.keys(header) as Array<keyof Row>
  const line = (row: Row): string => `| ${keys.map(key => row[key]).join(' | ')} |`
  console.log(`\n${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}, ${new Date().toISOString().slice(0, 10)}\n`)
  console.log(line(header))
  console.log(`|${keys.map(() => '---').join('|')}|`)
  for (const row of rows) console.log(line(row))
}

// `npm run bench -- durable` measures durable delivery only, `npm run bench -- isolation` isolation only
async function main (): Promise<void> {
  compileChildren()
  if (process.argv[2] === 'durable') {
    print(await durableRows())
    return
  }
  if (process.argv[2] === 'isolation') {
    const receiver = await startReceiver()
    try {
      print(await isolationRows(receiver.port))
    } finally {
      receiver.child.kill('SIGTERM')
    }
    return
  }
  const rows = [...documentRows(), ...await requestRows()]
  const receiver = await startReceiver()
  try {
    rows.push(...await deliveryRows(receiver.port), await instructionRow(receiver.port), ...await isolationRows(receiver.port))
  } finally {
    receiver.child.kill('SIGTERM')
  }
  print([...rows, memoryRow(), ...await durableRows()])
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
