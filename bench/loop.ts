export interface LoopRun {
  perSecond: number
  p50: number
  p99: number
  /** This process's CPU time per delivery, in µs: user space, and the kernel on its behalf (the socket writes and reads). */
  userMicros: number
  systemMicros: number
}

/** Runs `deliver` `count` times, `concurrency` at a time: deliveries per second, latency percentiles in ms, and CPU per delivery. */
export async function measureLoop (deliver: () => Promise<void>, count: number, concurrency: number): Promise<LoopRun> {
  const latencies: number[] = []
  let next = 0
  const worker = async (): Promise<void> => {
    while (next++ < count) {
      const start = process.hrtime.bigint()
      await deliver()
      latencies.push(Number(process.hrtime.bigint() - start) / 1e6)
    }
  }
  const start = process.hrtime.bigint()
  const cpu = process.cpuUsage()
  await Promise.all(Array.from({ length: concurrency }, worker))
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  const { user, system } = process.cpuUsage(cpu)
  latencies.sort((a, b) => a - b)
  const percentile = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]!
  return { perSecond: latencies.length / seconds, p50: percentile(0.5), p99: percentile(0.99), userMicros: user / latencies.length, systemMicros: system / latencies.length }
}
