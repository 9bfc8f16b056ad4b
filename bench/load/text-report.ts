/**
 * What a person watching the terminal reads: the live line each second (stderr) and the final
 * summary (stdout), in the same words as the HTML report.
 */
import type { LoadProgress } from './run-open-model-load.ts'
import type { FindMaxResult, FindMaxStage, LoadResult, SloVerdict } from './result-types.ts'
import { formatPercent } from './slo.ts'
import { describePinning } from './cpu-pinning.ts'
import { describeMachineSpeed } from './machine-speed.ts'
import { describeAllocation, describeGcPauses } from './server-figures.ts'

export function formatProgressLine (progress: LoadProgress): string {
  const server = progress.server === null
    ? ''
    : `  server ${progress.server.rssBytes === null ? 'n/a' : `${(progress.server.rssBytes / MiB).toFixed(0)} MiB`}` +
      ` ${progress.server.cpuPercent === null ? 'n/a' : `${progress.server.cpuPercent.toFixed(0)} % CPU`}`
  return `[${String(progress.elapsedSeconds).padStart(4)} s ${progress.phase.padEnd(7)}] ` +
    `sent ${progress.sentLastSecond}/s  done ${progress.completedLastSecond}/s  ` +
    `p99 so far ${progress.p99SoFarMs === null ? '-' : `${progress.p99SoFarMs.toFixed(1)} ms`}  ` +
    `errors ${progress.errorsSoFar}  in flight ${progress.inFlight}${server}`
}

export function formatResultText (result: LoadResult, verdict?: SloVerdict): string {
  const { latencyMs: latency, requests, server, settings } = result
  const errors = Object.entries(result.errorsByType)
  const lines = [
    `Open-model load: ${settings.rate} rps for ${settings.durationSeconds} s (warmup ${settings.warmupSeconds} s) against ${settings.url}`,
    `  latency      p50 ${latency.p50} ms  p90 ${latency.p90} ms  p99 ${latency.p99} ms  p99.9 ${latency.p999} ms  max ${latency.max} ms`,
    `  success      ${formatPercent(result.successRate)} (${requests.succeeded} of ${requests.sent}; ${requests.timedOut} timed out)`,
    `  achieved     ${result.achievedRps.sent} sent/s, ${result.achievedRps.completed} completed/s, ${result.achievedRps.succeeded} succeeded/s`,
    `  errors       ${errors.length === 0 ? 'none' : errors.map(([type, count]) => `${type}: ${count}`).join(', ')}`,
    `  cache hits   ${server.cacheHitRate === null ? 'n/a' : `${formatPercent(server.cacheHitRate)} (${server.cacheHits} hits, ${server.cacheMisses} misses)`}`,
    `  SQL          ${server.sqlStatements === null ? 'n/a' : `${server.sqlStatements} statements, ${server.sqlStatementsPerRequest} per request`}${requestPathSql(server)}`,
    `  server       RSS peak ${server.peakRssBytes === null ? 'n/a' : `${(server.peakRssBytes / MiB).toFixed(1)} MiB`}, mean CPU ${server.meanCpuPercent === null ? 'n/a' : `${server.meanCpuPercent} %`}${server.available ? '' : ` (${server.metricsUrl} unreadable)`}`,
    `  heap alloc   ${describeAllocation(server)}`,
    `  GC pauses    ${describeGcPauses(server)}`,
    `  generator    send lag p99 ${result.generator.sendLagP99Ms} ms, max ${result.generator.sendLagMaxMs} ms${result.generator.keptUp ? '' : '  WARNING: the generator fell behind its schedule; latencies include its own delay'}`,
    `  by operation ${result.byOperation.map((operation) => `${operation.name} n=${operation.count} p99=${operation.p99Ms} ms err=${operation.errors}`).join('; ')}`
  ]
  if (result.pinning !== undefined) lines.push(`  pinning      ${describePinning(result.pinning)}`)
  if (result.machine !== undefined) lines.push(`  machine      ${describeMachineSpeed(result.machine)}`)
  if (result.idleInTransaction !== undefined) lines.push(`  after        connections idle in transaction: ${result.idleInTransaction.description}`)
  if (verdict !== undefined) lines.push(formatVerdict(verdict))
  return lines.join('\n')
}

export function formatVerdict (verdict: SloVerdict): string {
  return `SLO ${verdict.passed ? 'PASS' : 'FAIL'}: ${verdict.checks.map((check) => `${check.passed ? 'ok' : 'FAILED'} ${check.description}`).join('; ')}`
}

export function formatStageLine (stage: FindMaxStage): string {
  const { result } = stage
  return `stage ${stage.rate} rps: p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, success ${formatPercent(result.successRate)}, ` +
    `${result.achievedRps.completed} completed/s → ${stage.verdict.passed ? 'PASS' : 'FAIL'}`
}

export function formatFindMaxText (search: FindMaxResult): string {
  const lines = search.stages.map((stage) => `  ${formatStageLine(stage)}`)
  const found = search.maxPassingRate === null ? 'none: the first stage already failed the SLO' : `${search.maxPassingRate} rps`
  const why = search.stoppedBecause === 'stage-failed' ? 'stopped at the first failing stage' : 'stopped at the --max-rate cap'
  return [`Highest rate within the SLO (p99 < ${search.thresholds.p99Ms} ms, success ≥ ${formatPercent(search.thresholds.successRate)}): ${found} (${why})`, ...lines].join('\n')
}

// Private:

const MiB = 1024 * 1024

/** "; for requests N (M % of requests ran none)" when the server exports the per-request histogram. */
function requestPathSql (server: { requestSqlStatements?: number | null, sqlFreeShare?: number | null }): string {
  if (server.requestSqlStatements == null || server.sqlFreeShare == null) return ''
  return `; for requests ${server.requestSqlStatements} (${(server.sqlFreeShare * 100).toFixed(2)} % of requests ran none)`
}
