// `npm run bench`: every row compares the plugin with a baseline measured in the same run, interleaved,
// over several runs; it prints the median ratio and its spread (min–max). Nothing here is a test.
import { execFileSync, spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import os from 'node:os'
import { once } from 'node:events'
import autocannon from 'autocannon'
import { median, ratioRow } from './rows.js'
import type { Row } from './rows.js'
import { durableRows } from './durable-rows.js'

const tsx = ['--import', 'tsx']
function documentRun (mode: 'plugin' | 'raw', routes: number): number {
  const output = execFileSync(process.execPath, [...tsx, 'bench/document.ts', mode, String(routes)], { encoding: 'utf8' })
  return (JSON.parse(output) as { milliseconds: number }).milliseconds
}

function documentRows (): Row[] {
  const rows: Row[] = []
  const sizes: Array<[number, number]> = []
  for (const [routes, runs] of [[100, 9], [1000, 7], [10000, 3]] as const) {
    const raw: number[] = []
    const plugin: number[] = []
    for (let run = 0; run < runs; run++) {
      raw.push(documentRun('raw', routes))
      plugin.push(documentRun('plugin', routes))
    }
    rows.push(ratioRow('document', `ready() + swagger(), ${routes} routes × 2 callbacks`, 'ms', raw, plugin, routes === 1000 ? '≤ 1.10' : 'growth'))
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
  const child = spawn(process.execPath, [...tsx, 'bench/request-server.ts', mode], { stdio: ['ignore', 'pipe', 'inherit'] })
  const [chunk] = await once(child.stdout!, 'data') as [Buffer]
  return { port: Number(chunk.toString().trim()), child }
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
    return [ratioRow('request path', 'req/s, route declaring callbacks, none sent', 'req/s', without, withPlugin, '≥ 0.98', 0)]
  } finally {
    baseline.child.kill('SIGTERM')
    plugin.child.kill('SIGTERM')
  }
}

interface DeliveryRun { perSecond: number, p50: number, p99: number }

function deliveryRun (mode: 'send' | 'baseline', port: number): DeliveryRun {
  const output = execFileSync(process.execPath, [...tsx, 'bench/delivery.ts', mode, String(port), '10000', '16'], { encoding: 'utf8' })
  return JSON.parse(output) as DeliveryRun
}

async function deliveryRows (): Promise<Row[]> {
  const child = spawn(process.execPath, [...tsx, 'bench/delivery-receiver.ts'], { stdio: ['ignore', 'pipe', 'inherit'] })
  try {
    const [chunk] = await once(child.stdout!, 'data') as [Buffer]
    const port = Number(chunk.toString().trim())
    const baseline: DeliveryRun[] = []
    const sent: DeliveryRun[] = []
    for (let round = 0; round < 7; round++) {
      baseline.push(deliveryRun('baseline', port))
      sent.push(deliveryRun('send', port))
    }
    const added = (key: 'p50' | 'p99'): string => {
      const difference = median(sent.map(run => run[key])) - median(baseline.map(run => run[key]))
      return `${difference < 0 ? '−' : '+'}${Math.abs(difference).toFixed(3)} ms`
    }
    return [
      ratioRow('delivery', 'deliveries/s to a receiver on 127.0.0.1, 16 at a time', '/s', baseline.map(run => run.perSecond), sent.map(run => run.perSecond), '≥ 0.85', 0),
      { part: 'delivery', measure: 'added latency, p50 / p99', baseline: `${median(baseline.map(run => run.p50)).toFixed(3)} / ${median(baseline.map(run => run.p99)).toFixed(3)} ms`, subject: `${median(sent.map(run => run.p50)).toFixed(3)} / ${median(sent.map(run => run.p99)).toFixed(3)} ms`, ratio: `${added('p50')} / ${added('p99')}`, spread: '', target: '' }
    ]
  } finally {
    child.kill('SIGTERM')
  }
}

function memoryRow (): Row {
  const runs = Array.from({ length: 3 }, () => {
    const output = execFileSync(process.execPath, ['--expose-gc', ...tsx, 'bench/delivery-memory.ts', '100000'], { encoding: 'utf8' })
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
    target: '≤ 1024 B'
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

// `npm run bench -- durable` measures durable delivery only
async function main (): Promise<void> {
  const rows = process.argv[2] === 'durable'
    ? await durableRows()
    : [...documentRows(), ...await requestRows(), ...await deliveryRows(), memoryRow(), ...await durableRows()]
  print(rows)
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
