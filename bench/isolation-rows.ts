// Isolation rows: each round runs in a child process (bench/isolation.ts), alternating which scenario goes first.
import { execFileSync } from 'node:child_process'
import { startRedis } from '../scripts/redis-server.js'
import { ratioRow } from './rows.js'
import type { Row } from './rows.js'

const ROUNDS = 5

function perSecond (engine: string, scenario: string, port: number, count: number, socket: string): number {
  const output = execFileSync(process.execPath, ['.bench/isolation.mjs', engine, scenario, String(port), String(count), socket], { encoding: 'utf8' })
  return (JSON.parse(output) as { perSecond: number }).perSecond
}

/** `baseline` and `subject` rounds, interleaved; the first of each pair alternates. */
function rounds (run: (scenario: string) => number, baseline: string, subject: string): [number[], number[]] {
  const baselines: number[] = []
  const subjects: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    if (round % 2 === 0) baselines.push(run(baseline))
    subjects.push(run(subject))
    if (round % 2 === 1) baselines.push(run(baseline))
  }
  return [baselines, subjects]
}

export async function isolationRows (port: number): Promise<Row[]> {
  const redis = await startRedis()
  try {
    const rows: Row[] = []
    for (const [engine, count] of [['memory', 4000], ['bullmq', 2000]] as const) {
      const run = (scenario: string): number => perSecond(engine, scenario, port, count, redis.socket)
      const [alone, blackhole] = rounds(run, 'alone', 'blackhole')
      rows.push(ratioRow('isolation', `${engine} engine: healthy deliveries/s with one black-holed receiver holding 200 messages, against none (defaults)`, '/s', alone, blackhole, '≥ 0.9', 0))
      const [one, spread] = rounds(run, 'one', 'spread')
      rows.push(ratioRow('isolation', `${engine} engine: deliveries/s spread over 1,000 receivers, against one receiver (16 at a time)`, '/s', one, spread, '≥ 0.9', 0))
    }
    return rows
  } finally {
    await redis.stop()
  }
}
