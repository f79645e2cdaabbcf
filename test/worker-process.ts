import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import type { Test } from 'tap'
import type { WebhookName } from './fixtures/durable-app.js'

export interface WorkerProcess {
  child: ChildProcess
  /** SIGKILL: the worker dies mid-attempt, as on a crash or an OOM kill. */
  kill (): Promise<void>
  /** SIGTERM: app.close(), graceful; resolves with the exit code. */
  stop (): Promise<number | null>
}

// starting Node with tsx and connecting takes a few seconds on a busy machine; past this the test fails
const READY_DEADLINE = 30_000
const fixture = join(__dirname, 'fixtures/durable-worker.ts')
// tap would record coverage in the child too, through tsx's source maps, which its report cannot merge with the
// test's own: what lib/ does is covered in the test processes
export const CHILD_ENV = { ...process.env, _TAPJS_PROCESSINFO_COVERAGE_: '0' }

function exited (child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode)
  const gone = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
  child.kill(signal)
  return gone
}

/**
 * A worker app in a child process on the test's Redis; killed when the test ends, if still alive. A short `lockDuration`
 * brings a dead worker's attempts back soon; a test that kills no worker keeps a long one, so that a machine too busy
 * to renew a lock in time does not run an attempt twice.
 */
export async function startWorker (t: Test, socket: string, queueName: string, lockDuration = 2000, webhooks: readonly WebhookName[] = []): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, socket, queueName, String(lockDuration), ...webhooks], { stdio: ['ignore', 'pipe', 'inherit'], env: CHILD_ENV })
  t.teardown(() => exited(child, 'SIGKILL'))
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the worker process did not start within ${READY_DEADLINE} ms`)), READY_DEADLINE)
    child.stdout!.once('data', () => {
      clearTimeout(timer)
      resolve()
    })
    child.once('exit', code => {
      clearTimeout(timer)
      reject(new Error(`the worker process exited with ${code} before it was ready`))
    })
  })
  return {
    child,
    kill: async () => { await exited(child, 'SIGKILL') },
    stop: () => exited(child, 'SIGTERM')
  }
}
