/**
 * A scale-out topology for a test file: HAProxy, two instances, PgBouncer and a redis-server of
 * its own, over a fresh database on the test PostgreSQL (TEST_DATABASE_URL). `stop()` stops it
 * and reports what was left behind: processes, listening ports, sessions of the database.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { dropDatabase, ensureDatabase } from '../../src/db/connect.ts'
import { describeMissing } from '../../scripts/scale-out/binaries.ts'
import { portAccepts } from '../../scripts/scale-out/readiness.ts'
import { startScaleOut, type PartInfo, type ScaleOut } from '../../scripts/scale-out/topology.ts'
import { testServerUrl } from '../helpers/database.ts'
import { createRequestMix, writeMixEntries, type LoadResult, type RequestMix } from '../../bench/load/index.ts'
import { describeSeedFailures, seedThroughApi } from '../../scripts/seed-through-api.ts'

/** The skip reason when a program the topology runs is missing; false when all are there. */
export const scaleOutSkip: string | false = ((missing) => missing === null ? false : `${missing}: scale-out tests skipped`)(describeMissing(['pgbouncer', 'haproxy', 'redis-server']))

/** Short budgets so that a statement_timeout can be seen to fire within a test. */
export const scaleOutTestEnv = Object.freeze({ DB_TIMEOUT_MS: '3000', GRAPHQL_TIMEOUT_MS: '4000', HTTP_TIMEOUT_MS: '5000', SHUTDOWN_GRACE_MS: '3000' })

export interface Leftovers {
  /** Parts whose pid still runs. */
  processes: PartInfo[]
  /** Parts whose port still accepts connections. */
  ports: PartInfo[]
  /** Sessions of the database other than the one looking, as "state/application_name". */
  sessions: string[]
  idleInTransaction: number
  advisoryLocks: number
}

export interface ScaleOutFixture {
  topology: ScaleOut
  /** Every part ever started (a restarted PgBouncer's old pid too). */
  partsSeen: PartInfo[]
  logLines: string[]
  /** Stops the topology and reports what it left; drops the database afterwards. */
  stop (): Promise<Leftovers>
}

export async function startScaleOutFixture ({ instances = 2 }: { instances?: number } = {}): Promise<ScaleOutFixture> {
  const serverUrl = testServerUrl()
  const name = `jotter_scaleout_${process.pid}_${randomBytes(3).toString('hex')}`
  const databaseUrl = await ensureDatabase(serverUrl, name)
  const logLines: string[] = []
  let topology: ScaleOut
  try {
    topology = await startScaleOut({
      instances,
      port: 0,
      databaseUrl,
      env: { ...process.env, ...scaleOutTestEnv, LOG_LEVEL: 'warn', SEED_DEMO_DATA: 'false' },
      log: (line) => { logLines.push(line) }
    })
  } catch (error) {
    await dropDatabase(serverUrl, name)
    throw error
  }
  const partsSeen = [...topology.parts()]
  let stopped: Promise<Leftovers> | undefined
  return {
    topology,
    partsSeen,
    logLines,
    stop () {
      stopped ??= (async () => {
        for (const part of topology.parts()) if (!partsSeen.some((seen) => seen.pid === part.pid && seen.name === part.name)) partsSeen.push(part)
        await topology.stop()
        try {
          return await findLeftovers(partsSeen, databaseUrl)
        } finally {
          await dropDatabase(serverUrl, name)
        }
      })()
      return stopped
    }
  }
}

export function isRunning (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

// Private:

const SESSION_SETTLE_MS = 3000

async function findLeftovers (parts: PartInfo[], databaseUrl: string): Promise<Leftovers> {
  // External parts (the test PostgreSQL) have no pid and are not ours to find gone.
  const ours = parts.filter((part) => part.pid !== null)
  const ports: PartInfo[] = []
  for (const part of ours) if (await portAccepts(part.port)) ports.push(part)
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'jotter-leftover-check' })
  await client.connect()
  try {
    // A backend that was told to go leaves pg_stat_activity a moment later.
    let rows: Array<{ state: string | null, application_name: string }> = []
    for (const deadline = Date.now() + SESSION_SETTLE_MS; ;) {
      rows = (await client.query<{ state: string | null, application_name: string }>(
        'select state, application_name from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()')).rows
      if (rows.length === 0 || Date.now() >= deadline) break
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    const { rows: [{ count }] } = await client.query<{ count: number }>(
      "select count(*)::int as count from pg_locks where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())")
    return {
      processes: ours.filter((part) => isRunning(part.pid!)),
      ports,
      sessions: rows.map((row) => `${row.state}/${row.application_name}`),
      idleInTransaction: rows.filter((row) => row.state?.startsWith('idle in transaction')).length,
      advisoryLocks: count
    }
  } finally {
    await client.end()
  }
}

/** Users and notes written through the API, then the write mix over them (15 % checked writes). */
export async function seededWriteMix (url: string, { users = 8, notesPerUser = 3 } = {}): Promise<RequestMix> {
  const seeded = await seedThroughApi({ url, users, notesPerUser, concurrency: 4 })
  if (seeded.failures.total > 0 || seeded.users.length === 0) throw new Error(`seeding through the API: ${describeSeedFailures(seeded.failures)}`)
  const noteIds = seeded.users.flatMap((user) => (user.ownNotes ?? []).map((note) => note.id))
  return createRequestMix({ entries: writeMixEntries, fixtures: { users: seeded.users, userIds: seeded.users.map((user) => user.id), noteIds } })
}

/** Seconds of the load (by schedule) that had errors: `{ 3: 2 }` = two failures among requests due in second 3. */
export function errorsBySecond (result: LoadResult): Record<number, number> {
  return Object.fromEntries(result.perSecond.filter((second) => second.errors > 0).map((second) => [second.second, second.errors]))
}
