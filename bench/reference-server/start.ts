/**
 * Starts bench/reference-server/server.ts as its own process, like Jotter in a benchmark: one
 * process, one event loop, `npm start`'s node flags, pinned where Jotter is pinned.
 */
import { productionNodeArgs } from '../bench-server.ts'
import { spawnListening } from '../bare-server.ts'
import { pinProcess } from '../load/cpu-pinning.ts'

export interface ReferenceServer {
  url: string
  pid: number
  /** SIGTERM, then SIGKILL if it has not exited within 10 s. */
  stop (): Promise<void>
}

export interface ReferenceServerOptions {
  databaseUrl: string
  jwtSecret: string
  /** Pin the process (all its threads) to these CPUs once it listens. */
  cpus?: string
  /** More node flags, before the script (e.g. --cpu-prof). */
  nodeArgs?: string[]
}

export async function startReferenceServer (options: ReferenceServerOptions): Promise<ReferenceServer> {
  const args = [...productionNodeArgs(), ...options.nodeArgs ?? [], '--import', 'tsx', 'bench/reference-server/server.ts', '--port', '0']
  const { child, port, exited } = await spawnListening(args, 'the reference server', { env: { DATABASE_URL: options.databaseUrl, JWT_SECRET: options.jwtSecret } })
  // A benchmark that crashes must not leave the server running.
  const killOnExit = (): void => { child.kill('SIGKILL') }
  process.once('exit', killOnExit)
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    const forced = setTimeout(() => child.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(forced)
    process.removeListener('exit', killOnExit)
  }
  try {
    if (options.cpus !== undefined) await pinProcess(child.pid!, options.cpus)
  } catch (error) {
    await stop()
    throw error
  }
  return { url: `http://127.0.0.1:${port}/graphql`, pid: child.pid!, stop }
}
