/**
 * What `npm run bench:compare` measured, as plain data (the JSON results file), and the table
 * it prints: one per mix, a column per target, every figure followed by its ratio to the floor
 * (a) and to the reference plain server (b), both measured in the same run with the same load.
 * A ratio needs a base that is a positive, finite number: anything else is "n/a", never a
 * division by zero dressed as a figure.
 */
import { MIX_TITLES, type AnswerCheck, type MixName } from './mixes.ts'

export type TargetName = 'floor' | 'reference' | 'jotter-off' | 'jotter' | 'jotter-hashes'
export const TARGET_NAMES: readonly TargetName[] = Object.freeze(['floor', 'reference', 'jotter-off', 'jotter', 'jotter-hashes'])

export const TARGET_LABELS: Readonly<Record<TargetName, string>> = Object.freeze({
  floor: 'a: bare node:http',
  reference: 'b: reference server',
  'jotter-off': 'c: Jotter, caches off',
  jotter: 'd: Jotter',
  'jotter-hashes': 'e: Jotter, persisted-query hashes'
})

/** One measured pass (closed loop or fixed rate) against one target. */
export interface PassFigures {
  requests: number
  /** 0..1: HTTP 200, no errors, and a write's answer says what it asked for. */
  successRate: number
  errorsByType: Record<string, number>
  /** CPU time over the pass divided by its requests; null where /proc could not say. */
  serverCpuMsPerRequest: number | null
  /** The whole PostgreSQL server's; null for the floor, which uses none. */
  postgresCpuMsPerRequest: number | null
  /** jotter_sql_statements_total over the pass per request; null where /metrics has none. */
  sqlStatementsPerRequest: number | null
  /** jotter_cache_hits_total / (hits + misses) over the pass; null without lookups. */
  cacheHitRate: number | null
  /** Response-cache entries dropped by invalidations (jotter_cache_invalidated_entries_total) per mutation sent (closed loop); null without counted mutations or the metric. */
  entriesDroppedPerMutation?: number | null
  /** Row-cache rows dropped by invalidations per mutation sent; null without mutations or the metric. */
  rowsDroppedPerMutation?: number | null
  /** The mean wait of a mutation's response for its own commit's notification (jotter_cache_bus_own_commit_wait_seconds); null without one. */
  ownCommitWaitMs?: number | null
}

export interface ClosedLoopFigures extends PassFigures {
  connections: number
  seconds: number
  requestsPerSecond: number
  /** Request body bytes the server received per request (documents resent after PERSISTED_QUERY_NOT_FOUND included). */
  requestBytesPerRequest: number
}

export interface FixedRateFigures extends PassFigures {
  rate: number
  p50Ms: number
  p99Ms: number
  /** False when the generator itself fell behind the schedule (its send lag p99 > 20 ms). */
  generatorKeptUp: boolean
}

export interface TargetRun {
  target: TargetName
  mix: MixName
  closed: ClosedLoopFigures
  fixedRate: FixedRateFigures
  /** Sessions of its database idle in a transaction once both passes ended (3 s to settle); null without a database. */
  idleInTransactionAfter: number | null
  /** Jotter's caches after both passes (jotter_cache_bytes, jotter_cache_entries, jotter_row_cache_bytes); null for the others. */
  cachesHeld: { responseCacheBytes: number | null, responseCacheEntries: number | null, rowCacheBytes: number | null } | null
}

export interface ComparisonReport {
  kind: 'bench-compare'
  startedAt: string
  finishedAt: string
  settings: {
    durationSeconds: number
    warmupSeconds: number
    /** The fixed rate as asked: "200 req/s", or "40 % of the reference's closed loop". */
    rate: string
    connections: number
    users: number
    notesPerUser: number
    mixes: MixName[]
    targets: TargetName[]
    pinning: string
  }
  machine: { cpus: number, loadAverageAtStart: number[], loadAverageAtEnd: number[] }
  seed: { users: number, notes: number, seconds: number }
  /** The reference server's answers against Jotter's, same requests and data; null when not both were run. */
  answerCheck: AnswerCheck | null
  runs: TargetRun[]
}

/** value / base, or null when either is missing or the base is not a positive finite number. */
export function ratio (value: number | null, base: number | null): number | null {
  if (value === null || base === null || !Number.isFinite(value) || !Number.isFinite(base) || base <= 0) return null
  const quotient = value / base
  return Number.isFinite(quotient) ? quotient : null
}

/** Two decimals below 10, one from 10 on (a ratio of 12.34 reads as 12.3). */
export function formatRatio (value: number | null): string {
  if (value === null) return 'n/a'
  return value >= 10 ? value.toFixed(1) : value.toFixed(2)
}

/** True when the fixed rate is more than the target answered in the closed loop: its latencies are a queue's. */
export function rateOverCapacity (run: TargetRun): boolean {
  return run.fixedRate.rate > run.closed.requestsPerSecond
}

export function formatReport (report: ComparisonReport): string {
  const { settings } = report
  const lines = [
    `## npm run bench:compare — ${settings.durationSeconds} s per pass after ${settings.warmupSeconds} s of warm-up; ` +
      `closed loop ${settings.connections} connections, fixed rate ${settings.rate}; ${settings.users} users × ${settings.notesPerUser} notes`,
    '',
    `CPU: ${settings.pinning}. Machine: ${report.machine.cpus} CPUs, load average ${report.machine.loadAverageAtStart.map((load) => load.toFixed(2)).join(' ')} at the start, ` +
      `${report.machine.loadAverageAtEnd.map((load) => load.toFixed(2)).join(' ')} at the end.`,
    `Seed: ${report.seed.users} users, ${report.seed.notes} notes through Jotter's API in ${report.seed.seconds.toFixed(1)} s; every database target starts from its own copy.`
  ]
  if (report.answerCheck !== null) lines.push(describeAnswerCheck(report.answerCheck))
  for (const mix of settings.mixes) {
    const runs = settings.targets.map((target) => report.runs.find((run) => run.target === target && run.mix === mix)).filter((run): run is TargetRun => run !== undefined)
    if (runs.length > 0) lines.push('', ...formatMixTable(mix, runs, settings))
  }
  lines.push('',
    'Each cell: the figure, then (a ×ratio to the floor, b ×ratio to the reference server) from this run. Lower is better for latency and CPU, higher for req/s.',
    'CPU per request: /proc utime + stime of the server process, and of every process of the PostgreSQL server (exited ones through the postmaster\'s cutime + cstime), over the pass, divided by its requests.',
    '‡ the fixed rate is above what this target answered in the closed loop: its latencies are mostly queueing. † the generator fell behind its schedule (send lag p99 > 20 ms).',
    'The floor answers every request with bytes Jotter sent for that operation and checks nothing; its writes are not checked either (it cannot echo them).')
  return lines.join('\n')
}

export function describeAnswerCheck (check: AnswerCheck): string {
  const head = `Reference server vs Jotter, same read requests, viewers and data: ${check.equal} of ${check.compared} answers byte-identical.`
  return check.differences.length === 0
    ? head
    : `${head} First difference (${check.differences[0].operation}): Jotter ${check.differences[0].jotter} / reference ${check.differences[0].reference}`
}

// Private:

interface Row {
  label: string
  value (run: TargetRun): number | null
  digits: number
  mark?: (run: TargetRun) => string
  /** False for Jotter's own counters, which neither the floor nor the reference has. */
  ratios?: false
}

function formatMixTable (mix: MixName, runs: readonly TargetRun[], settings: ComparisonReport['settings']): string[] {
  const floor = runs.find((run) => run.target === 'floor')
  const reference = runs.find((run) => run.target === 'reference')
  const rate = `at ${runs[0]?.fixedRate.rate ?? '?'} req/s`
  const latencyMark = (run: TargetRun): string => `${rateOverCapacity(run) ? ' ‡' : ''}${run.fixedRate.generatorKeptUp ? '' : ' †'}`
  const rows: Row[] = [
    { label: `req/s, closed loop (${settings.connections} connections)`, value: (run) => run.closed.requestsPerSecond, digits: 0 },
    { label: 'request bytes/request, closed loop', value: (run) => run.closed.requestBytesPerRequest, digits: 0 },
    { label: `p50 ms, ${rate}`, value: (run) => run.fixedRate.p50Ms, digits: 2, mark: latencyMark },
    { label: `p99 ms, ${rate}`, value: (run) => run.fixedRate.p99Ms, digits: 2, mark: latencyMark },
    { label: 'success %, closed loop', value: (run) => run.closed.successRate * 100, digits: 2 },
    { label: `success %, ${rate}`, value: (run) => run.fixedRate.successRate * 100, digits: 2 },
    { label: 'idle in transaction afterwards', value: (run) => run.idleInTransactionAfter, digits: 0 },
    { label: 'server CPU ms/request, closed loop', value: (run) => run.closed.serverCpuMsPerRequest, digits: 3 },
    { label: `server CPU ms/request, ${rate}`, value: (run) => run.fixedRate.serverCpuMsPerRequest, digits: 3 },
    { label: 'PostgreSQL CPU ms/request, closed loop', value: (run) => run.closed.postgresCpuMsPerRequest, digits: 3 },
    { label: `PostgreSQL CPU ms/request, ${rate}`, value: (run) => run.fixedRate.postgresCpuMsPerRequest, digits: 3 },
    { label: 'SQL statements/request, closed loop', value: (run) => run.closed.sqlStatementsPerRequest, digits: 2 },
    { label: `SQL statements/request, ${rate}`, value: (run) => run.fixedRate.sqlStatementsPerRequest, digits: 2 },
    { label: 'response-cache hit %, closed loop', value: (run) => percentOrNull(run.closed.cacheHitRate), digits: 1 },
    { label: `response-cache hit %, ${rate}`, value: (run) => percentOrNull(run.fixedRate.cacheHitRate), digits: 1 },
    ...mix === 'read'
      ? []
      : [
          { label: 'response-cache entries dropped/mutation, closed loop', value: (run: TargetRun) => run.closed.entriesDroppedPerMutation ?? null, digits: 2, ratios: false as const },
          { label: 'row-cache rows dropped/mutation, closed loop', value: (run: TargetRun) => run.closed.rowsDroppedPerMutation ?? null, digits: 2, ratios: false as const },
          { label: `wait for its own commit's notification, mean ms, ${rate}`, value: (run: TargetRun) => run.fixedRate.ownCommitWaitMs ?? null, digits: 2, ratios: false as const }
        ]
  ]
  const cell = (row: Row, run: TargetRun): string => {
    const value = row.value(run)
    if (value === null) return 'n/a'
    if (row.ratios === false) return `${value.toFixed(row.digits)}${row.mark?.(run) ?? ''}`
    const ratios = [
      ...floor === undefined ? [] : [`a ×${formatRatio(ratio(value, row.value(floor)))}`],
      ...reference === undefined ? [] : [`b ×${formatRatio(ratio(value, row.value(reference)))}`]
    ]
    return `${value.toFixed(row.digits)}${row.mark?.(run) ?? ''}${ratios.length === 0 ? '' : ` (${ratios.join(', ')})`}`
  }
  const held = runs.filter((run) => run.cachesHeld !== null).map((run) =>
    `${TARGET_LABELS[run.target]} held ${formatMiB(run.cachesHeld!.responseCacheBytes)} in ${run.cachesHeld!.responseCacheEntries ?? 'an unknown number of'} response-cache entries and ${formatMiB(run.cachesHeld!.rowCacheBytes)} in the row cache after both passes.`)
  return [
    `### ${MIX_TITLES[mix]}`,
    '',
    `| figure | ${runs.map((run) => TARGET_LABELS[run.target]).join(' | ')} |`,
    `|---|${runs.map(() => '---:').join('|')}|`,
    ...rows.map((row) => `| ${row.label} | ${runs.map((run) => cell(row, run)).join(' | ')} |`),
    ...held.length === 0 ? [] : ['', ...held]
  ]
}

function percentOrNull (share: number | null): number | null {
  return share === null ? null : share * 100
}

function formatMiB (bytes: number | null): string {
  return bytes === null ? 'n/a' : `${(bytes / 1024 / 1024).toFixed(1)} MiB`
}
