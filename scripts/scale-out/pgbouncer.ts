/**
 * PgBouncer in transaction pooling mode between the instances and PostgreSQL: each instance
 * keeps up to DB_POOL_MAX client connections to it, and it lends them `poolSize` server
 * connections, one per transaction.
 *
 * PgBouncer refuses to run as root; as root it is started with `-u postgres` and its files
 * belong to that user.
 */
import { chown, writeFile } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { requireBinary } from './binaries.ts'
import { startManagedProcess, type ManagedProcess, type PartHooks } from './managed-process.ts'
import { ignoredStartupParameters, withClient } from './pooling-settings.ts'
import { waitForPort } from './readiness.ts'

export interface PgBouncerSettings {
  listenPort: number
  serverHost: string
  serverPort: number
  database: string
  user: string
  password: string | undefined
  /** Server connections per database/user pair (default_pool_size). */
  poolSize: number
  /** Client connections accepted in all (max_client_conn). */
  maxClientConnections: number
  /** DB_TIMEOUT_MS: PgBouncer's own timeouts sit a little above PostgreSQL's. */
  dbTimeoutMs: number
  /** Where the configuration, the auth file, the log and the pid file go. */
  runDir: string
}

export interface PgBouncerPart {
  name: 'pgbouncer'
  port: number
  pid (): number
  /** The URL the instances use: the same database and user, through PgBouncer. */
  url: string
  process (): ManagedProcess
  /** Stops PgBouncer (SIGTERM: at once, connections cut) and starts it again on the same port. */
  restart (): Promise<void>
  /** Rewrites default_pool_size and reloads (SIGHUP); resolves once PgBouncer reports the new size. */
  setPoolSize (size: number): Promise<void>
  /** SIGINT: PgBouncer's safe shutdown (waits for running transactions), SIGKILL after the timeout. */
  stop (): Promise<void>
}

/** Seconds PgBouncer waits beyond PostgreSQL's own limits before it steps in. */
const GUARD_MARGIN_MS = 5000
const READY_TIMEOUT_MS = 10_000
const STOP_TIMEOUT_MS = 5000
const UNPRIVILEGED_USER = 'postgres'

export function pgbouncerIni (settings: PgBouncerSettings): string {
  const seconds = (ms: number): string => String(Math.ceil(ms / 1000))
  return [
    '[databases]',
    `${settings.database} = host=${settings.serverHost} port=${settings.serverPort} dbname=${settings.database}`,
    '',
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${settings.listenPort}`,
    // No Unix socket: two topologies on one machine would fight over /tmp/.s.PGSQL.<port>.
    'unix_socket_dir =',
    `auth_type = ${settings.password === undefined ? 'trust' : 'scram-sha-256'}`,
    `auth_file = ${join(settings.runDir, 'userlist.txt')}`,
    `admin_users = ${settings.user}`,
    'pool_mode = transaction',
    `default_pool_size = ${settings.poolSize}`,
    `max_client_conn = ${settings.maxClientConnections}`,
    // The pool's startup parameters; their values are set on the database instead (pooling-settings.ts).
    `ignore_startup_parameters = ${ignoredStartupParameters.join(',')}`,
    // Guards behind PostgreSQL's statement_timeout and idle_in_transaction_session_timeout.
    `query_timeout = ${seconds(settings.dbTimeoutMs + GUARD_MARGIN_MS)}`,
    `idle_transaction_timeout = ${seconds(settings.dbTimeoutMs + 1000 + GUARD_MARGIN_MS)}`,
    // After a failed login to PostgreSQL (a restart), try again in 1 s, not the default 15 s.
    'server_login_retry = 1',
    // One line per client login would drown the orchestrator's output; errors still show.
    'log_connections = 0',
    'log_disconnections = 0',
    `logfile = ${join(settings.runDir, 'pgbouncer.log')}`,
    `pidfile = ${join(settings.runDir, 'pgbouncer.pid')}`,
    ''
  ].join('\n')
}

export function pgbouncerUserlist (user: string, password: string | undefined): string {
  const quote = (value: string): string => `"${value.replaceAll('"', '""')}"`
  return `${quote(user)} ${quote(password ?? '')}\n`
}

export async function startPgBouncer (settings: PgBouncerSettings, { log, watch }: PartHooks): Promise<PgBouncerPart> {
  const binary = requireBinary('pgbouncer')
  const configFile = join(settings.runDir, 'pgbouncer.ini')
  await writeFile(configFile, pgbouncerIni(settings))
  await writeFile(join(settings.runDir, 'userlist.txt'), pgbouncerUserlist(settings.user, settings.password), { mode: 0o600 })
  const asRoot = process.getuid?.() === 0
  if (asRoot) {
    const owner = systemUser(UNPRIVILEGED_USER)
    for (const file of ['pgbouncer.ini', 'userlist.txt']) await chown(join(settings.runDir, file), owner.uid, owner.gid)
    await chown(settings.runDir, owner.uid, owner.gid)
  }
  const args = [...(asRoot ? ['-u', UNPRIVILEGED_USER] : []), configFile]
  const launch = async (): Promise<ManagedProcess> => {
    const started = startManagedProcess({ name: 'pgbouncer', command: binary, args, onOutput: (line) => log(`pgbouncer: ${line}`) })
    try {
      await waitForPort(settings.listenPort, started, READY_TIMEOUT_MS)
    } catch (error) {
      await started.stop({ timeoutMs: STOP_TIMEOUT_MS })
      throw new Error(`${(error as Error).message}\n${tail(join(settings.runDir, 'pgbouncer.log'))}`)
    }
    watch?.(started)
    return started
  }
  let current = await launch()
  let written = settings
  const url = new URL(`postgres://127.0.0.1:${settings.listenPort}/${encodeURIComponent(settings.database)}`)
  url.username = settings.user
  if (settings.password !== undefined) url.password = settings.password
  return {
    name: 'pgbouncer',
    port: settings.listenPort,
    pid: () => current.pid,
    url: url.toString(),
    process: () => current,
    async restart () {
      await current.stop({ signal: 'SIGTERM', timeoutMs: STOP_TIMEOUT_MS })
      current = await launch()
    },
    async setPoolSize (size) {
      written = { ...written, poolSize: size }
      await writeFile(configFile, pgbouncerIni(written))
      current.signal('SIGHUP')
      const adminUrl = new URL(url)
      adminUrl.pathname = '/pgbouncer'
      const deadline = performance.now() + READY_TIMEOUT_MS
      for (;;) {
        const reported = await withClient(adminUrl.toString(), async (admin) =>
          Number((await admin.query('show config')).rows.find((row) => row.key === 'default_pool_size')?.value))
        if (reported === size) return
        if (performance.now() > deadline) throw new Error(`pgbouncer: default_pool_size is still ${reported} after a reload asking for ${size}`)
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    },
    async stop () {
      await current.stop({ signal: 'SIGINT', timeoutMs: STOP_TIMEOUT_MS })
    }
  }
}

// Private:

function systemUser (name: string): { uid: number, gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((entry) => entry.startsWith(`${name}:`))
  if (line === undefined) throw new Error(`pgbouncer refuses to run as root, and there is no "${name}" user to run it as: run as another user, or create "${name}"`)
  const [, , uid, gid] = line.split(':')
  return { uid: Number(uid), gid: Number(gid) }
}

function tail (file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-10).join('\n')
  } catch {
    return ''
  }
}
