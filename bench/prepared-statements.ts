/**
 * `npm run bench:prepared [-- --rounds 10 --batches 200]` (a benchmark, not a test)
 *
 * What named prepared statements (DB_PREPARED_STATEMENTS, src/db/statement-names.ts) save
 * PostgreSQL: the batched reads the loaders and the row cache's refresh run (users, notes,
 * note tags, author windows, note counts by ids), through the real repositories and gateway,
 * on two one-connection pools over the same database — one naming its statements, one not.
 * Rounds alternate between the two so that a noisy minute hurts both alike. Reported per
 * statement: the PostgreSQL backend's CPU time (from /proc, so the server must be on this
 * machine) and the round trip as this process saw it, with the named/unnamed ratios.
 *
 * The database: a fresh one on TEST_DATABASE_URL or DATABASE_URL's server, dropped at the
 * end, or, with neither set, a throwaway embedded PostgreSQL.
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { configWith } from '../src/config.ts'
import { createPool, openPool } from '../src/db/connect.ts'
import { unbudgetedScope, type Database } from '../src/db/gateway.ts'
import { createRepositories } from '../src/db/repositories.ts'
import { everyRowReader } from '../src/db/visibility.ts'
import { seedGraph } from '../tools/seed-graph.ts'
import { exitWith, positiveInteger } from './cli-flags.ts'
import { openBenchDatabase } from './database-server.ts'

interface Variant { name: string, db: Database, backendPid: number, cpuMs: number, wallMs: number, statements: number }

const CLOCK_TICKS_PER_SECOND = 100

async function main (): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '10' }, batches: { type: 'string', default: '200' } } })
  const rounds = positiveInteger('--rounds', values.rounds!)
  const batches = positiveInteger('--batches', values.batches!)

  const database = await openBenchDatabase('bench:prepared', { poolMax: 1 })
  const variants: Variant[] = []
  try {
    const graph = await seedGraph(database.db.sql, { users: 200, notesPerUser: 20, heavyUserExtraNotes: 0, tagPool: 20 })
    const noteIds = (await database.db.sql<{ id: string }>`select id from notes order by id`).map((row) => row.id)

    for (const prepared of [true, false]) {
      const config = configWith({ dbPoolMax: 1, dbTimeoutMs: 20_000, dbPreparedStatements: prepared })
      const db = openPool(createPool(database.url, config), config)
      const [{ pid }] = await db.read<{ pid: number }>(unbudgetedScope(), 'backendPid', (sql) => sql`select pg_backend_pid() as pid`)
      variants.push({ name: prepared ? 'named (prepared once)' : 'unnamed (parsed each time)', db, backendPid: pid, cpuMs: 0, wallMs: 0, statements: 0 })
    }

    const workload = (db: Database, batch: number): Array<Promise<unknown>> => {
      const { users, notes, tags } = createRepositories(db)
      const scope = unbudgetedScope()
      const userIds = pick(graph.userIds, batch, 10)
      const someNotes = pick(noteIds, batch, 20)
      return [
        users.byIds(scope, userIds),
        notes.byIds(scope, everyRowReader, someNotes),
        tags.byNoteIds(scope, everyRowReader, someNotes),
        notes.byAuthors(scope, everyRowReader, userIds.slice(0, 5).map((parentId) => ({ parentId, first: 20, after: null }))),
        notes.countsByAuthors(scope, everyRowReader, userIds)
      ]
    }
    const STATEMENTS_PER_BATCH = 5

    for (const variant of variants) await runBatches(variant, Math.min(batches, 20), workload) // warm-up: plans, caches
    for (const variant of variants) Object.assign(variant, { cpuMs: 0, wallMs: 0, statements: 0 })
    for (let round = 0; round < rounds; round++) {
      for (const variant of round % 2 === 0 ? variants : [...variants].reverse()) {
        const cpuBefore = backendCpuMs(variant.backendPid)
        const started = performance.now()
        await runBatches(variant, batches, workload)
        variant.wallMs += performance.now() - started
        variant.cpuMs += backendCpuMs(variant.backendPid) - cpuBefore
        variant.statements += batches * STATEMENTS_PER_BATCH
      }
    }

    process.stdout.write(`bench:prepared: ${rounds} rounds × ${batches} batches of ${STATEMENTS_PER_BATCH} batched reads (users, notes, note tags, author windows, note counts), one connection each; node ${process.version}\n\n`)
    process.stdout.write('| statements | PostgreSQL CPU per statement | round trip per statement |\n|---|---|---|\n')
    for (const variant of variants) {
      process.stdout.write(`| ${variant.name} | ${(1000 * variant.cpuMs / variant.statements).toFixed(0)} µs | ${(1000 * variant.wallMs / variant.statements).toFixed(0)} µs |\n`)
    }
    const [named, unnamed] = variants
    process.stdout.write(`\nnamed/unnamed: CPU ${(named.cpuMs / unnamed.cpuMs).toFixed(2)}, round trip ${(named.wallMs / unnamed.wallMs).toFixed(2)}\n`)
  } finally {
    for (const variant of variants) await variant.db.close()
    await database.drop()
  }
}

// Private:

async function runBatches (variant: Variant, batches: number, workload: (db: Database, batch: number) => Array<Promise<unknown>>): Promise<void> {
  // The five statements of a batch queue on the one connection, as a request's loaders do.
  for (let batch = 0; batch < batches; batch++) await Promise.all(workload(variant.db, batch))
}

/** `count` ids from `ids`, a different stretch for each batch. */
function pick (ids: readonly string[], batch: number, count: number): string[] {
  const start = (batch * count) % Math.max(1, ids.length - count)
  return ids.slice(start, start + count)
}

/** utime + stime of a process on this machine, in ms. */
function backendCpuMs (pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 1000 / CLOCK_TICKS_PER_SECOND
}

exitWith('bench:prepared', main().then(() => 0))
