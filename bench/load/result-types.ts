/**
 * The shape of what a load run produces: the JSON written to bench/results/, the input of the
 * HTML and text reports, and what the soak, find-max and scaling benchmarks read back.
 *
 * Plain data only (numbers, strings, arrays), so `JSON.stringify(result)` is the file format.
 * Latencies are milliseconds here; the histograms underneath record microseconds.
 */
import type { PinningReport } from './cpu-pinning.ts'
import type { MachineSpeed } from './machine-speed.ts'

export interface LoadSettings {
  url: string
  /** Target arrival rate, requests per second. */
  rate: number
  durationSeconds: number
  warmupSeconds: number
  timeoutMs: number
  connections: number
  pipelining: number
  users: number
  writeShare: number
  /** Zipf exponent of id popularity; 0 = uniform. */
  idSkew: number
}

export interface LatencySummaryMs {
  p50: number
  p90: number
  p99: number
  p999: number
  max: number
  mean: number
}

export interface PercentilePoint {
  percentile: number
  latencyMs: number
}

/** One second of the measured window; requests are placed by their scheduled second. */
export interface SecondStats {
  second: number
  sent: number
  errors: number
  /** Responses (or timeouts) that finished during this second, whenever they were scheduled. */
  completed: number
  p50Ms: number
  p99Ms: number
  maxMs: number
}

export interface OperationStats {
  name: string
  count: number
  errors: number
  p50Ms: number
  p99Ms: number
  maxMs: number
}

export interface ServerSample {
  /** Seconds since the measured window started. */
  second: number
  rssBytes: number | null
  /** Percent of one core over the interval before this sample; > 100 with several workers. */
  cpuPercent: number | null
  /** Milliseconds the server spent in GC pauses over the interval before this sample. */
  gcPauseMs?: number | null
  /** The longest of those pauses was at most this (a histogram bucket's upper edge). */
  gcLongestPauseMsAtMost?: number | null
}

/** The server's GC pauses over the measured window (nodejs_gc_duration_seconds deltas). */
export interface GcPauseSummary {
  pauses: number
  perSecond: number
  totalMs: number
  /** totalMs over the window's wall-clock time: the share of time the event loop stood still for GC. */
  shareOfWindow: number
  /** Interpolated within histogram buckets, as Prometheus's histogram_quantile() does. */
  p50Ms: number
  p99Ms: number
  /** Upper edge of the highest bucket holding a pause; null when there was none. */
  maxMsAtMost: number | null
  byKind: Array<{ kind: string, pauses: number, totalMs: number, meanMs: number }>
}

export interface ServerMetricsSummary {
  metricsUrl: string
  /** False when /metrics could not be read at the start or the end of the window. */
  available: boolean
  cacheHits: number | null
  cacheMisses: number | null
  /** hits / (hits + misses) over the window; null = "n/a". */
  cacheHitRate: number | null
  sqlStatements: number | null
  sqlStatementsPerRequest: number | null
  /** Statements run for GraphQL requests (not the row cache's refreshes, the bus's heartbeat). */
  requestSqlStatements?: number | null
  /** Share of GraphQL requests that ran no SQL. */
  sqlFreeShare?: number | null
  peakRssBytes: number | null
  meanCpuPercent: number | null
  /** V8 heap bytes allocated over the window (jotter_heap_allocated_bytes_total), the scrapes' own allocation subtracted; null = not exported. */
  heapAllocatedBytes?: number | null
  /** heapAllocatedBytes per request sent: hits and misses of the mix together. */
  allocatedBytesPerRequest?: number | null
  /** What one /metrics scrape allocates in the server (measured after the run), subtracted above. */
  scrapeAllocatedBytes?: number | null
  gcPauses?: GcPauseSummary | null
  samples: ServerSample[]
}

export interface GeneratorHealth {
  /** How late requests left the generator compared with their schedule. */
  sendLagP99Ms: number
  sendLagMaxMs: number
  /** False when the generator itself was too slow to keep the schedule: read latencies with care. */
  keptUp: boolean
}

export interface LoadResult {
  kind: 'open-model-load'
  startedAt: string
  settings: LoadSettings
  /** Effective weights in percent, writes included. */
  mix: Array<{ name: string, weight: number }>
  requests: {
    /** Requests scheduled in the measured window (all are sent; the model is open). */
    sent: number
    /** Requests that got a response, good or bad. */
    completed: number
    succeeded: number
    failed: number
    timedOut: number
  }
  /** succeeded / sent: HTTP 200 and no `errors` in the body. */
  successRate: number
  latencyMs: LatencySummaryMs
  percentileDistribution: PercentilePoint[]
  errorsByType: Record<string, number>
  achievedRps: { sent: number, completed: number, succeeded: number }
  perSecond: SecondStats[]
  byOperation: OperationStats[]
  generator: GeneratorHealth
  server: ServerMetricsSummary
  /** Which CPUs the generator, the server and PostgreSQL could use (set by the CLI). */
  pinning?: PinningReport
  /** Set when a database was given: its connections left idle in transaction after the run. */
  idleInTransaction?: { count: number, description: string }
  /** The server CPUs' speed before and after the run (set by the CLI; absent if it could not be timed). */
  machine?: MachineSpeed
}

export interface SloThresholds {
  /** p99 must be strictly below this. */
  p99Ms: number
  /** Success rate as a fraction, must be at least this. */
  successRate: number
}

export interface SloCheck {
  name: string
  passed: boolean
  actual: number
  threshold: number
  /** Human sentence, e.g. "p99 183.2 ms < 200 ms". */
  description: string
}

export interface SloVerdict {
  passed: boolean
  checks: SloCheck[]
}

export interface FindMaxStage {
  rate: number
  verdict: SloVerdict
  result: LoadResult
}

export interface FindMaxResult {
  kind: 'find-max'
  startedAt: string
  thresholds: SloThresholds
  /** The highest stage rate that met the SLO; null when even the first stage failed. */
  maxPassingRate: number | null
  /** Why the search stopped. */
  stoppedBecause: 'stage-failed' | 'max-rate-reached'
  stages: FindMaxStage[]
}
