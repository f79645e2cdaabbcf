// Durable delivery rows: each measurement runs in a child process (bench/durable.ts) on one redis-server of this run.
import { execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { startRedis } from '../scripts/redis-server.js'
import { median, ratioRow } from './rows.js'
import type { Row } from './rows.js'

function measure<T> (mode: string, socket: string, port = ''): T {
  return JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', 'bench/durable.ts', mode, socket, port], { encoding: 'utf8' })) as T
}

export async function durableRows (): Promise<Row[]> {
  const redis = await startRedis()
  const receiver = spawn(process.execPath, ['--import', 'tsx', 'bench/delivery-receiver.ts'], { stdio: ['ignore', 'pipe', 'inherit'] })
  try {
    const [chunk] = await once(receiver.stdout!, 'data') as [Buffer]
    const port = chunk.toString().trim()
    const enqueue = measure<{ plugin: number[], raw: number[] }>('enqueue', redis.socket)
    const deliver = measure<{ plugin: number[], raw: number[] }>('deliver', redis.socket, port)
    const memory = measure<{ perMessage: number, jobKey: number }>('memory', redis.socket)
    const failovers = [0, 1].map(() => measure<{ seconds: number, lockDuration: number, stalledInterval: number }>('failover', redis.socket))
    const { lockDuration, stalledInterval } = failovers[0]!
    const seconds = failovers.map(run => run.seconds)
    return [
      ratioRow('durable', 'enqueue()/s against a raw queue.add() of the same job, 16 at a time', '/s', enqueue.raw, enqueue.plugin, '≥ 0.95', 0),
      ratioRow('durable', 'deliveries/s through the engine against a BullMQ Worker + a bare agent.request POST of the same bytes and headers, 16 at a time', '/s', deliver.raw, deliver.plugin, '≥ 0.90', 0),
      { part: 'durable', measure: 'Redis bytes per pending message (INFO used_memory over 10,000; MEMORY USAGE of one job)', baseline: '', subject: `${memory.perMessage.toFixed(0)} B / ${memory.jobKey} B`, ratio: '', spread: '', target: '≤ 1536 B' },
      { part: 'durable', measure: `kill -9 of a worker mid-attempt to its redelivery by another (lockDuration ${lockDuration / 1000} s, stalledInterval ${stalledInterval / 1000} s)`, baseline: '', subject: `${median(seconds).toFixed(2)} s`, ratio: '', spread: `${Math.min(...seconds).toFixed(2)}–${Math.max(...seconds).toFixed(2)} s`, target: `≤ ${(lockDuration + stalledInterval) / 1000} s` }
    ]
  } finally {
    receiver.kill('SIGTERM')
    await redis.stop()
  }
}
