/** A throwaway redis-server for the topology: no persistence, 127.0.0.1 only. */
import { requireBinary } from './binaries.ts'
import { startManagedProcess, type ManagedProcess, type PartHooks } from './managed-process.ts'
import { waitForPort } from './readiness.ts'

export interface RedisPart {
  name: 'redis'
  port: number
  pid: number
  url: string
  process: ManagedProcess
  stop (): Promise<void>
}

const READY_TIMEOUT_MS = 10_000

export async function startRedis ({ port, runDir }: { port: number, runDir: string }, { log, watch }: PartHooks): Promise<RedisPart> {
  const binary = requireBinary('redis-server')
  const started = startManagedProcess({
    name: 'redis',
    command: binary,
    args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', runDir, '--loglevel', 'warning'],
    onOutput: (line) => log(`redis: ${line}`)
  })
  try {
    await waitForPort(port, started, READY_TIMEOUT_MS)
  } catch (error) {
    await started.stop()
    throw error
  }
  watch?.(started)
  return {
    name: 'redis',
    port,
    pid: started.pid,
    url: `redis://127.0.0.1:${port}`,
    process: started,
    async stop () {
      await started.stop()
    }
  }
}
