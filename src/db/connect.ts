/**
 * Opens the pool: DATABASE_URL when set, otherwise the embedded PostgreSQL (started here and
 * stopped by `close`). Migrations are applied before the pool is handed out.
 */
import postgres from 'postgres'
import type { Config } from '../config.ts'
import { startEmbeddedPostgres } from './embedded.ts'
import { createDatabase, type Database, type Sql } from './gateway.ts'
import { migrate } from './migrate.ts'

export interface OpenedDatabase {
  db: Database
  url: string
  /** Closes the pool, then stops the embedded server if this process started it. */
  close (): Promise<void>
}

export interface OpenOptions {
  log: (message: string) => void
}

const EMBEDDED_DATABASE = 'jotter'

export async function openDatabase (config: Config, { log }: OpenOptions): Promise<OpenedDatabase> {
  let url = config.databaseUrl
  let stopEmbedded = async (): Promise<void> => {}
  if (url === undefined) {
    const embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, port: config.embeddedPostgresPort })
    stopEmbedded = embedded.stop
    url = await ensureDatabase(embedded.url, EMBEDDED_DATABASE)
    log(`embedded PostgreSQL listening on 127.0.0.1:${config.embeddedPostgresPort} (data in ${config.dataDir}/pg)`)
  }
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
