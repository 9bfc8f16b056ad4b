/**
 * The two measured passes against one running target, each after its own warm-up: a closed
 * loop (throughput), then a fixed open-model rate (latency). CPU counters and Jotter's
 * /metrics are read around each measured pass only; the scrape comes before the CPU reading
 * at the start and after it at the end, so the scrape's own work is not counted.
 */
import { runOpenModelLoad } from '../load/run-open-model-load.ts'
import type { RequestMix } from '../load/request-mix.ts'
import { METRIC_NAMES, parsePrometheusSums } from '../load/server-metrics.ts'
import { runClosedLoop } from './closed-loop.ts'
import type { CpuReader } from './process-cpu.ts'
import type { ClosedLoopFigures, FixedRateFigures, PassFigures, TargetRun } from './report.ts'

export interface PassesOptions {
  url: string
  mix: RequestMix
  serverCpu: CpuReader
  /** Null for a target that uses no database. */
  postgresCpu: CpuReader | null
  /** Jotter's /metrics; null for the others. */
  metricsUrl: string | null
  /** Read the caches' sizes from /metrics after the passes (Jotter with its caches on). */
  reportCachesHeld: boolean
  durationSeconds: number
  warmupSeconds: number
  /** Requests per second, or a share of this target's own closed loop (the reference's, when the rate is relative to it). */
  rate: number | { shareOfClosedLoop: number }
  connections: number
  log: (line: string) => void
  /** Checked between passes: true ends the measurement early (Ctrl-C). */
  stopRequested: () => boolean
}

export class MeasurementStopped extends Error {}

export async function measurePasses (options: PassesOptions): Promise<Pick<TargetRun, 'closed' | 'fixedRate' | 'cachesHeld'>> {
  const { url, mix, connections, durationSeconds, warmupSeconds, rate, log } = options
  const between = (): void => { if (options.stopRequested()) throw new MeasurementStopped('stopped') }

  if (warmupSeconds > 0) await runClosedLoop({ url, mix, connections, durationSeconds: warmupSeconds })
  between()
  const closedStart = await readCounters(options, 'start')
  const closedLoop = await runClosedLoop({ url, mix, connections, durationSeconds })
  const closedEnd = await readCounters(options, 'end')
  const closed: ClosedLoopFigures = {
    connections,
    seconds: closedLoop.seconds,
    requestsPerSecond: closedLoop.requestsPerSecond,
    requestBytesPerRequest: closedLoop.requests === 0 ? 0 : closedLoop.requestBytes / closedLoop.requests,
    ...passFigures(closedLoop.requests, closedLoop.succeeded, closedLoop.errorsByType, closedStart, closedEnd, closedLoop.writes)
  }
  log(`  closed loop: ${closed.requestsPerSecond.toFixed(0)} req/s, ${(closed.successRate * 100).toFixed(2)} % success`)
  between()

  const fixed = typeof rate === 'number' ? rate : Math.max(1, Math.round(rate.shareOfClosedLoop * closed.requestsPerSecond))
  const openModel = (seconds: number) => runOpenModelLoad({ url, mix, rate: fixed, durationSeconds: seconds, connections, metricsUrl: null })
  if (warmupSeconds > 0) await openModel(warmupSeconds)
  between()
  const openStart = await readCounters(options, 'start')
  const open = await openModel(durationSeconds)
  const openEnd = await readCounters(options, 'end')
  const fixedRate: FixedRateFigures = {
    rate: fixed,
    p50Ms: open.latencyMs.p50,
    p99Ms: open.latencyMs.p99,
    generatorKeptUp: open.generator.keptUp,
    ...passFigures(open.requests.sent, open.requests.succeeded, open.errorsByType, openStart, openEnd)
  }
  log(`  ${fixed} req/s: p50 ${fixedRate.p50Ms} ms, p99 ${fixedRate.p99Ms} ms, ${(fixedRate.successRate * 100).toFixed(2)} % success`)

  const held = options.reportCachesHeld && options.metricsUrl !== null ? await scrape(options.metricsUrl) : null
  return {
    closed,
    fixedRate,
    cachesHeld: held === null ? null : { responseCacheBytes: held.get(CACHE_BYTES) ?? null, responseCacheEntries: held.get(CACHE_ENTRIES) ?? null, rowCacheBytes: held.get(ROW_CACHE_BYTES) ?? null }
  }
}

export interface Counters {
  serverCpuSeconds: number | null
  postgresCpuSeconds: number | null
  /** Jotter's metric sums; null without /metrics or when it could not be read. */
  metrics: Map<string, number> | null
}

/**
 * A pass's figures from its request counts and the counters read around it. `mutations` (how
 * many of the requests were mutations, where counted) turns the write path's counters into
 * figures per mutation.
 */
export function passFigures (requests: number, succeeded: number, errorsByType: Record<string, number>, start: Counters, end: Counters, mutations = 0): PassFigures {
  const perRequest = (from: number | null | undefined, to: number | null | undefined): number | null =>
    from == null || to == null || requests === 0 ? null : (to - from) / requests
  const metricDelta = (name: string): number | null => {
    const from = start.metrics?.get(name)
    const to = end.metrics?.get(name)
    return from === undefined || to === undefined ? null : to - from
  }
  const statements = metricDelta(METRIC_NAMES.sqlStatements)
  const hits = metricDelta(METRIC_NAMES.cacheHits)
  const misses = metricDelta(METRIC_NAMES.cacheMisses)
  const perMutation = (name: string): number | null => {
    const delta = metricDelta(name)
    return delta === null || mutations === 0 ? null : delta / mutations
  }
  const waits = metricDelta(OWN_COMMIT_WAIT_COUNT)
  const waitedSeconds = metricDelta(OWN_COMMIT_WAIT_SUM)
  const cpuMs = (from: number | null, to: number | null): number | null => {
    const seconds = perRequest(from, to)
    return seconds === null ? null : seconds * 1000
  }
  return {
    requests,
    successRate: requests === 0 ? 0 : succeeded / requests,
    errorsByType,
    serverCpuMsPerRequest: cpuMs(start.serverCpuSeconds, end.serverCpuSeconds),
    postgresCpuMsPerRequest: cpuMs(start.postgresCpuSeconds, end.postgresCpuSeconds),
    sqlStatementsPerRequest: statements === null || requests === 0 ? null : statements / requests,
    cacheHitRate: hits === null || misses === null || hits + misses === 0 ? null : hits / (hits + misses),
    entriesDroppedPerMutation: perMutation(INVALIDATED_ENTRIES),
    rowsDroppedPerMutation: perMutation(INVALIDATED_ROWS),
    ownCommitWaitMs: waits === null || waitedSeconds === null || waits === 0 ? null : waitedSeconds * 1000 / waits
  }
}

// Private:

const CACHE_BYTES = 'jotter_cache_bytes'
const CACHE_ENTRIES = 'jotter_cache_entries'
const ROW_CACHE_BYTES = 'jotter_row_cache_bytes'
const INVALIDATED_ENTRIES = 'jotter_cache_invalidated_entries_total'
const INVALIDATED_ROWS = 'jotter_row_cache_invalidated_total'
const OWN_COMMIT_WAIT_SUM = 'jotter_cache_bus_own_commit_wait_seconds_sum'
const OWN_COMMIT_WAIT_COUNT = 'jotter_cache_bus_own_commit_wait_seconds_count'
const SCRAPED = [METRIC_NAMES.cacheHits, METRIC_NAMES.cacheMisses, METRIC_NAMES.sqlStatements, CACHE_BYTES, CACHE_ENTRIES, ROW_CACHE_BYTES,
  INVALIDATED_ENTRIES, INVALIDATED_ROWS, OWN_COMMIT_WAIT_SUM, OWN_COMMIT_WAIT_COUNT]

async function readCounters (options: PassesOptions, edge: 'start' | 'end'): Promise<Counters> {
  const readCpu = (): Pick<Counters, 'serverCpuSeconds' | 'postgresCpuSeconds'> => ({ serverCpuSeconds: options.serverCpu(), postgresCpuSeconds: options.postgresCpu?.() ?? null })
  if (options.metricsUrl === null) return { ...readCpu(), metrics: null }
  if (edge === 'start') {
    const metrics = await scrape(options.metricsUrl)
    return { ...readCpu(), metrics }
  }
  const cpu = readCpu()
  return { ...cpu, metrics: await scrape(options.metricsUrl) }
}

async function scrape (metricsUrl: string): Promise<Map<string, number> | null> {
  try {
    const response = await fetch(metricsUrl, { signal: AbortSignal.timeout(5000) })
    const text = await response.text()
    return response.status === 200 ? parsePrometheusSums(text, SCRAPED) : null
  } catch {
    return null
  }
}
