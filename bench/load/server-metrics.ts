/**
 * The server's side of a run, read from its Prometheus GET /metrics: cache hits and misses, SQL
 * statements, V8 heap bytes allocated and GC pauses (deltas over the window), RSS, CPU and GC
 * time (sampled every second).
 *
 * Counters are summed over all their label sets, so per-operation or per-worker labels add up
 * to the process (or, with the cluster aggregator, the fleet) total. A metric the server does
 * not export is null, and the report says "n/a" rather than 0.
 */
import { Client } from 'undici'
import { gcBetweenSamples, gcPausesBetween, GC_HISTOGRAM, parseGcHistogram, type GcHistogramReading } from './gc-pauses.ts'
import type { ServerMetricsSummary, ServerSample } from './result-types.ts'

export const METRIC_NAMES = Object.freeze({
  cacheHits: 'jotter_cache_hits_total',
  cacheMisses: 'jotter_cache_misses_total',
  sqlStatements: 'jotter_sql_statements_total',
  // Observed once per GraphQL request: statements on the request path (refreshes and the like are not).
  requestSqlSum: 'jotter_sql_statements_per_request_sum',
  requestSqlCount: 'jotter_sql_statements_per_request_count',
  rssBytes: 'process_resident_memory_bytes',
  cpuSeconds: 'process_cpu_seconds_total',
  heapAllocatedBytes: 'jotter_heap_allocated_bytes_total',
  gcPauses: GC_HISTOGRAM
})

export interface ServerMetricsSnapshot {
  /** Clock of the run (performance.now()), taken when the response arrived. */
  atMs: number
  cacheHits: number | null
  cacheMisses: number | null
  sqlStatements: number | null
  requestSqlSum?: number | null
  requestSqlCount?: number | null
  /** GraphQL requests that ran no SQL (the per-request histogram's le="0" bucket). */
  requestsWithoutSql?: number | null
  rssBytes: number | null
  cpuSeconds: number | null
  heapAllocatedBytes?: number | null
  gc?: GcHistogramReading | null
}

export interface ServerMetricsScraper {
  readonly metricsUrl: string
  /** Null when the endpoint cannot be read: it is optional, a run never fails for it. */
  scrape (): Promise<ServerMetricsSnapshot | null>
  close (): Promise<void>
}

export interface ServerMetricsSampler {
  /** RSS and CPU from the last two snapshots, for the live progress line; null before two exist. */
  current (): { rssBytes: number | null, cpuPercent: number | null } | null
  /** Stops sampling and returns every snapshot taken, in order. */
  stop (): Promise<ServerMetricsSnapshot[]>
}

/** Sums of each requested metric over its label sets; a metric with no sample is absent. */
export function parsePrometheusSums (text: string, names: readonly string[]): Map<string, number> {
  const wanted = new Set(names)
  const sums = new Map<string, number>()
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim()
    if (line === '' || line.startsWith('#')) continue
    const nameEnd = line.search(/[{\s]/)
    if (nameEnd <= 0) continue
    const name = line.slice(0, nameEnd)
    if (!wanted.has(name)) continue
    const rest = line[nameEnd] === '{' ? line.slice(closingBraceIndex(line, nameEnd) + 1) : line.slice(nameEnd)
    const value = Number(rest.trim().split(/\s+/)[0])
    if (!Number.isFinite(value)) continue
    sums.set(name, (sums.get(name) ?? 0) + value)
  }
  return sums
}

export function createServerMetricsScraper (metricsUrl: string, now: () => number, timeoutMs = 2000): ServerMetricsScraper {
  const url = new URL(metricsUrl)
  // Its own connection: behind a saturated load pool a scrape would queue for seconds.
  const client = new Client(url.origin, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs })
  const names = Object.values(METRIC_NAMES)

  return {
    metricsUrl,
    async scrape () {
      try {
        const response = await client.request({ method: 'GET', path: url.pathname + url.search, signal: AbortSignal.timeout(timeoutMs) })
        const text = await response.body.text()
        if (response.statusCode !== 200) return null
        const sums = parsePrometheusSums(text, names)
        return {
          atMs: now(),
          cacheHits: sums.get(METRIC_NAMES.cacheHits) ?? null,
          cacheMisses: sums.get(METRIC_NAMES.cacheMisses) ?? null,
          sqlStatements: sums.get(METRIC_NAMES.sqlStatements) ?? null,
          requestSqlSum: sums.get(METRIC_NAMES.requestSqlSum) ?? null,
          requestSqlCount: sums.get(METRIC_NAMES.requestSqlCount) ?? null,
          requestsWithoutSql: zeroBucketOf(text),
          rssBytes: sums.get(METRIC_NAMES.rssBytes) ?? null,
          cpuSeconds: sums.get(METRIC_NAMES.cpuSeconds) ?? null,
          heapAllocatedBytes: sums.get(METRIC_NAMES.heapAllocatedBytes) ?? null,
          gc: parseGcHistogram(text)
        }
      } catch {
        return null
      }
    },
    async close () {
      await client.destroy()
    }
  }
}

/** Scrapes every `intervalMs` until stopped; a scrape still pending skips the next tick. */
export function startServerMetricsSampler (scraper: ServerMetricsScraper, intervalMs = 1000): ServerMetricsSampler {
  const snapshots: ServerMetricsSnapshot[] = []
  let pending: Promise<void> | undefined
  const timer = setInterval(() => {
    if (pending !== undefined) return
    pending = scraper.scrape().then((snapshot) => {
      if (snapshot !== null) snapshots.push(snapshot)
      pending = undefined
    })
  }, intervalMs)
  return {
    current () {
      if (snapshots.length < 2) return null
      const [previous, last] = snapshots.slice(-2)
      return { rssBytes: last.rssBytes, cpuPercent: cpuPercentBetween(previous, last) }
    },
    async stop () {
      clearInterval(timer)
      await pending
      return snapshots
    }
  }
}

/**
 * @param first snapshot at the start of the measured window (null if unreadable)
 * @param last snapshot after the drain (null if unreadable)
 * @param samples the periodic snapshots, for the RSS, CPU and GC series
 * @param scrapeCost a snapshot taken right after `last`: the allocation between the two is
 *   what one scrape costs the server, subtracted once for every scrape inside the window
 */
export function summarizeServerMetrics (
  metricsUrl: string,
  first: ServerMetricsSnapshot | null,
  last: ServerMetricsSnapshot | null,
  samples: readonly ServerMetricsSnapshot[],
  windowStartMs: number,
  requestsSent: number,
  scrapeCost: ServerMetricsSnapshot | null = null
): ServerMetricsSummary {
  const delta = (key: 'cacheHits' | 'cacheMisses' | 'sqlStatements' | 'requestSqlSum' | 'requestSqlCount' | 'requestsWithoutSql'): number | null => {
    const from = first?.[key]
    const to = last?.[key]
    return from == null || to == null ? null : to - from
  }
  const cacheHits = delta('cacheHits')
  const cacheMisses = delta('cacheMisses')
  const sqlStatements = delta('sqlStatements')
  const requestSqlStatements = delta('requestSqlSum')
  const requestSqlCount = delta('requestSqlCount')
  const requestsWithoutSql = delta('requestsWithoutSql')
  const lookups = cacheHits === null || cacheMisses === null ? 0 : cacheHits + cacheMisses

  const series: ServerSample[] = []
  let previous: ServerMetricsSnapshot | undefined
  for (const snapshot of samples) {
    if (snapshot.atMs < windowStartMs) { previous = snapshot; continue }
    const cpuPercent = previous === undefined ? null : cpuPercentBetween(previous, snapshot)
    const gc = gcBetweenSamples(previous?.gc ?? null, snapshot.gc ?? null)
    series.push({ second: round1((snapshot.atMs - windowStartMs) / 1000), rssBytes: snapshot.rssBytes, cpuPercent, gcPauseMs: gc.pauseMs, gcLongestPauseMsAtMost: gc.longestAtMostMs })
    previous = snapshot
  }
  const rss = series.map((sample) => sample.rssBytes).filter((value): value is number => value !== null)
  const cpu = series.map((sample) => sample.cpuPercent).filter((value): value is number => value !== null)
  const allocation = allocationBetween(first, last, scrapeCost, samples)

  return {
    metricsUrl,
    available: first !== null && last !== null,
    cacheHits,
    cacheMisses,
    cacheHitRate: lookups > 0 ? (cacheHits as number) / lookups : null,
    sqlStatements,
    sqlStatementsPerRequest: sqlStatements !== null && requestsSent > 0 ? Math.round(sqlStatements / requestsSent * 1000) / 1000 : null,
    requestSqlStatements,
    sqlFreeShare: requestsWithoutSql === null || requestSqlCount === null || requestSqlCount === 0 ? null : requestsWithoutSql / requestSqlCount,
    peakRssBytes: rss.length === 0 ? null : Math.max(...rss),
    meanCpuPercent: cpu.length === 0 ? null : round1(cpu.reduce((sum, value) => sum + value, 0) / cpu.length),
    heapAllocatedBytes: allocation?.bytes ?? null,
    allocatedBytesPerRequest: allocation === null || requestsSent === 0 ? null : Math.round(allocation.bytes / requestsSent),
    scrapeAllocatedBytes: allocation?.perScrape ?? null,
    gcPauses: first === null || last === null ? null : gcPausesBetween(first.gc ?? null, last.gc ?? null, (last.atMs - first.atMs) / 1000),
    samples: series
  }
}

/** Defaults to the load URL's origin + /metrics. */
export function defaultMetricsUrl (graphqlUrl: string): string {
  return new URL('/metrics', graphqlUrl).href
}

// Private:

/**
 * Heap bytes allocated between `first` and `last`, less what the scrapes in between cost: each
 * scrape renders the whole registry (tens of KB), which at a low rate is a visible share of
 * a request's allocation. Null when the server has no allocation counter.
 */
function allocationBetween (first: ServerMetricsSnapshot | null, last: ServerMetricsSnapshot | null, scrapeCost: ServerMetricsSnapshot | null, samples: readonly ServerMetricsSnapshot[]): { bytes: number, perScrape: number | null } | null {
  const from = first?.heapAllocatedBytes
  const to = last?.heapAllocatedBytes
  if (from == null || to == null) return null
  const perScrape = scrapeCost?.heapAllocatedBytes == null ? null : Math.max(0, scrapeCost.heapAllocatedBytes - to)
  // The last scrape's own work before it read the counter, and every sampler scrape between.
  const scrapes = 1 + samples.filter((snapshot) => snapshot.atMs > first!.atMs && snapshot.atMs < last!.atMs).length
  return { bytes: Math.max(0, to - from - (perScrape ?? 0) * scrapes), perScrape }
}

function cpuPercentBetween (previous: ServerMetricsSnapshot, snapshot: ServerMetricsSnapshot): number | null {
  if (previous.cpuSeconds === null || snapshot.cpuSeconds === null || snapshot.atMs <= previous.atMs) return null
  return round1((snapshot.cpuSeconds - previous.cpuSeconds) / ((snapshot.atMs - previous.atMs) / 1000) * 100)
}

/** Index of the `}` closing the label set opened at `openIndex`, skipping quoted label values. */
function closingBraceIndex (line: string, openIndex: number): number {
  let inQuotes = false
  for (let index = openIndex + 1; index < line.length; index++) {
    const char = line[index]
    if (inQuotes) {
      if (char === '\\') index++
      else if (char === '"') inQuotes = false
    } else if (char === '"') inQuotes = true
    else if (char === '}') return index
  }
  return line.length - 1
}

function round1 (value: number): number {
  return Math.round(value * 10) / 10
}

/** The count of the per-request SQL histogram's le="0" bucket (requests that ran no SQL), or null. */
function zeroBucketOf (text: string): number | null {
  const match = /^jotter_sql_statements_per_request_bucket\{le="0"\} (\S+)$/m.exec(text)
  return match === null ? null : Number(match[1])
}
