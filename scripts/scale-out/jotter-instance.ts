/**
 * One Jotter instance of the topology: `npm start`'s command (the same node flags) with its own
 * PORT, one process (WORKERS=1 unless the environment says otherwise), ready when its own
 * /health/ready answers.
 */
import { productionNodeArgs, repoRoot } from '../../bench/bench-server.ts'
import { startManagedProcess, type ManagedProcess, type PartHooks } from './managed-process.ts'
import { waitForHttpOk } from './readiness.ts'

export interface InstancePart {
  /** "instance-1": also its server name in HAProxy. */
  name: string
  port: number
  pid: number
  process: ManagedProcess
  /** SIGTERM: Jotter's graceful close (in-flight requests finish within SHUTDOWN_GRACE_MS). */
  stop (): Promise<void>
}

export interface InstanceSettings {
  name: string
  port: number
  /** The whole environment of the process (the topology's variables included). */
  env: NodeJS.ProcessEnv
  shutdownGraceMs: number
  readyTimeoutMs: number
}

const STOP_MARGIN_MS = 5000

export async function startInstance (settings: InstanceSettings, { log, watch }: PartHooks): Promise<InstancePart> {
  const started = startManagedProcess({
    name: settings.name,
    command: process.execPath,
    args: [...productionNodeArgs(), '--import', 'tsx', 'src/server.ts'],
    cwd: repoRoot,
    env: { ...settings.env, HOST: '127.0.0.1', PORT: String(settings.port) },
    onOutput: (line) => log(`${settings.name}: ${line}`)
  })
  const stop = async (): Promise<void> => {
    await started.stop({ signal: 'SIGTERM', timeoutMs: settings.shutdownGraceMs + STOP_MARGIN_MS })
  }
  try {
    await waitForHttpOk(`http://127.0.0.1:${settings.port}/health/ready`, started, settings.readyTimeoutMs)
  } catch (error) {
    await stop()
    throw error
  }
  watch?.(started)
  return { name: settings.name, port: settings.port, pid: started.pid, process: started, stop }
}
