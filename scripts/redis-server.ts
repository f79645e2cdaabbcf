// A redis-server of its own for a test, the bench or the durable example: on a unix socket in a temporary folder, with
// the append-only file on; started, killed and restarted by PID, and removed when this process exits, however it exits.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'

export const REDIS_SERVER = '/usr/bin/redis-server'

export interface RedisServer {
  /** The unix socket's path. */
  socket: string
  /** A new client of this server (maxRetriesPerRequest: null, as BullMQ's workers need), closed by stop(). */
  client (): Redis
  /** SIGKILL, as a crash: what the append-only file has written survives. */
  kill (): Promise<void>
  /** Starts it again on the same folder and socket, from its append-only file. */
  restart (): Promise<void>
  stop (): Promise<void>
}

// Redis prints this once it accepts connections; a server that does not within this long fails the test
const READY = /ready to accept connections/i
const START_DEADLINE = 10_000

const live = new Set<ChildProcess>()
const folders = new Set<string>()
// runs after tap has taken the process's coverage, so it never shows as covered
/* c8 ignore start */
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL')
  for (const folder of folders) rmSync(folder, { recursive: true, force: true })
})
/* c8 ignore stop */

function launch (dir: string, socket: string, args: readonly string[]): Promise<ChildProcess> {
  const child = spawn(REDIS_SERVER, ['--port', '0', '--unixsocket', socket, '--dir', dir, '--appendonly', 'yes', '--save', '', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] })
  live.add(child)
  child.once('exit', () => live.delete(child))
  return new Promise((resolve, reject) => {
    let output = ''
    const timer = setTimeout(() => fail(`redis-server did not start within ${START_DEADLINE} ms`), START_DEADLINE)
    function fail (why: string): void {
      clearTimeout(timer)
      child.kill('SIGKILL')
      reject(new Error(`${why}:\n${output}`))
    }
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      if (READY.test(output)) {
        clearTimeout(timer)
        child.stdout!.removeAllListeners('data').resume()
        resolve(child)
      }
    })
    child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString() })
    child.once('exit', code => fail(`redis-server exited with ${code}`))
  })
}

async function exited (child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const gone = new Promise(resolve => child.once('exit', resolve))
  child.kill(signal)
  await gone
}

/** `args`: more redis-server arguments, e.g. ['--appendonly', 'no']. */
export async function startRedis (args: readonly string[] = []): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'foc-redis-'))
  folders.add(dir)
  const socket = join(dir, 'redis.sock')
  const clients: Redis[] = []
  let child = await launch(dir, socket, args)
  return {
    socket,
    client () {
      const client = new Redis({ path: socket, maxRetriesPerRequest: null })
      // reconnection noise while a test kills the server
      client.on('error', () => {})
      clients.push(client)
      return client
    },
    kill: () => exited(child, 'SIGKILL'),
    async restart () {
      child = await launch(dir, socket, args)
    },
    async stop () {
      for (const client of clients) client.disconnect()
      await exited(child, 'SIGKILL')
      rmSync(dir, { recursive: true, force: true })
      folders.delete(dir)
    }
  }
}
