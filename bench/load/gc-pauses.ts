/**
 * The server's garbage-collection pauses over a window, from two readings of prom-client's
 * nodejs_gc_duration_seconds{kind} histogram (Jotter's /metrics gives it finer buckets:
 * src/observability/metrics.ts). A histogram only knows its buckets, so the quantiles are
 * interpolated within a bucket as Prometheus's histogram_quantile() does, and the longest
 * pause is known only as "at most the upper edge of the highest bucket that holds one".
 */
import type { GcPauseSummary } from './result-types.ts'

export const GC_HISTOGRAM = 'nodejs_gc_duration_seconds'

/** Cumulative counts of one scrape, summed over the kinds (and, in a cluster, the workers). */
export interface GcHistogramReading {
  /** [upper edge in seconds, cumulative count], ascending; the last edge is Infinity. */
  buckets: Array<[number, number]>
  count: number
  sumSeconds: number
  byKind: Record<string, { count: number, sumSeconds: number }>
}

/** Null when the text has no such histogram (a server without prom-client's GC metrics). */
export function parseGcHistogram (text: string): GcHistogramReading | null {
  const buckets = new Map<number, number>()
  const byKind: GcHistogramReading['byKind'] = {}
  let count = 0
  let sumSeconds = 0
  let seen = false
  for (const line of text.split('\n')) {
    if (!line.startsWith(GC_HISTOGRAM)) continue
    const match = /^nodejs_gc_duration_seconds_(bucket|sum|count)(?:\{([^}]*)\})? (\S+)/.exec(line)
    if (match === null) continue
    const value = Number(match[3])
    if (!Number.isFinite(value)) continue
    seen = true
    const labels = match[2] ?? ''
    const kind = /(?:^|,)kind="([^"]*)"/.exec(labels)?.[1] ?? 'unknown'
    if (match[1] === 'bucket') {
      const le = /(?:^|,)le="([^"]*)"/.exec(labels)?.[1]
      if (le === undefined) continue
      const edge = le === '+Inf' ? Infinity : Number(le)
      buckets.set(edge, (buckets.get(edge) ?? 0) + value)
    } else {
      const entry = (byKind[kind] ??= { count: 0, sumSeconds: 0 })
      if (match[1] === 'sum') { entry.sumSeconds += value; sumSeconds += value } else { entry.count += value; count += value }
    }
  }
  if (!seen) return null
  return { buckets: [...buckets].sort((a, b) => a[0] - b[0]), count, sumSeconds, byKind }
}

/** The pauses between two readings; null when either is missing. */
export function gcPausesBetween (first: GcHistogramReading | null, last: GcHistogramReading | null, windowSeconds: number): GcPauseSummary | null {
  if (first === null || last === null) return null
  const delta = bucketDeltas(first, last)
  const pauses = last.count - first.count
  const totalMs = (last.sumSeconds - first.sumSeconds) * 1000
  const kinds = Object.keys(last.byKind).sort()
  return {
    pauses,
    perSecond: windowSeconds > 0 ? round(pauses / windowSeconds, 2) : 0,
    totalMs: round(totalMs, 1),
    shareOfWindow: windowSeconds > 0 ? round(totalMs / (windowSeconds * 1000), 4) : 0,
    p50Ms: quantileMs(delta, 0.5),
    p99Ms: quantileMs(delta, 0.99),
    maxMsAtMost: longestAtMostMs(delta),
    byKind: kinds.map((kind) => {
      const from = first.byKind[kind] ?? { count: 0, sumSeconds: 0 }
      const to = last.byKind[kind]
      const kindPauses = to.count - from.count
      const kindMs = (to.sumSeconds - from.sumSeconds) * 1000
      return { kind, pauses: kindPauses, totalMs: round(kindMs, 1), meanMs: kindPauses === 0 ? 0 : round(kindMs / kindPauses, 2) }
    }).filter((kind) => kind.pauses > 0)
  }
}

/** Milliseconds of GC between two readings, and the upper edge of the longest pause among them. */
export function gcBetweenSamples (first: GcHistogramReading | null, last: GcHistogramReading | null): { pauseMs: number | null, longestAtMostMs: number | null } {
  if (first === null || last === null) return { pauseMs: null, longestAtMostMs: null }
  return { pauseMs: round((last.sumSeconds - first.sumSeconds) * 1000, 2), longestAtMostMs: longestAtMostMs(bucketDeltas(first, last)) }
}

// Private:

/** Cumulative [edge, count] of the pauses between the readings. */
function bucketDeltas (first: GcHistogramReading, last: GcHistogramReading): Array<[number, number]> {
  const before = new Map(first.buckets)
  return last.buckets.map(([edge, cumulative]) => [edge, cumulative - (before.get(edge) ?? 0)])
}

/** histogram_quantile(): linear within the bucket the rank falls in; the +Inf bucket answers its lower edge. */
function quantileMs (cumulative: Array<[number, number]>, q: number): number {
  const total = cumulative.at(-1)?.[1] ?? 0
  if (total === 0) return 0
  const rank = q * total
  let lowerEdge = 0
  let lowerCount = 0
  for (const [edge, count] of cumulative) {
    if (count >= rank) {
      if (edge === Infinity) return round(lowerEdge * 1000, 2)
      const inBucket = count - lowerCount
      const within = inBucket === 0 ? 0 : (rank - lowerCount) / inBucket
      return round((lowerEdge + (edge - lowerEdge) * within) * 1000, 2)
    }
    lowerEdge = edge
    lowerCount = count
  }
  return round(lowerEdge * 1000, 2)
}

function longestAtMostMs (cumulative: Array<[number, number]>): number | null {
  const total = cumulative.at(-1)?.[1] ?? 0
  if (total === 0) return null
  const index = cumulative.findIndex(([, count]) => count >= total)
  // Beyond the last finite edge (2.5 s): the report shows that edge.
  const edge = cumulative[index][0] === Infinity ? cumulative[index - 1]?.[0] ?? 0 : cumulative[index][0]
  return round(edge * 1000, 2)
}

function round (value: number, digits: number): number {
  const scale = 10 ** digits
  return Math.round(value * scale) / scale
}
