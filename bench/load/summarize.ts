/**
 * Turns a finished recording into the plain {@link LoadResult}: percentiles in milliseconds,
 * rates, the per-second series and the percentile curve the HTML report plots.
 */
import type { Histogram } from 'hdr-histogram-js'
import type { LatencyRecording } from './latency-recorder.ts'
import type {
  LatencySummaryMs, LoadResult, LoadSettings, OperationStats, PercentilePoint, SecondStats, ServerMetricsSummary
} from './result-types.ts'

export interface SummaryContext {
  settings: LoadSettings
  startedAt: string
  mix: Array<{ name: string, weight: number }>
  server: ServerMetricsSummary
}

/**
 * A p99 send lag above this means the generator, not the server, was late: the tick is 1 ms,
 * so anything much larger is the event loop of the generator being busy or descheduled.
 */
export const GENERATOR_LAG_LIMIT_MS = 20

/** The percentiles of the distribution plot; the tail ones are kept only when the sample is big enough to have them. */
const DISTRIBUTION_PERCENTILES = [0, 10, 20, 30, 40, 50, 60, 70, 75, 80, 85, 90, 95, 97.5, 99, 99.5, 99.75, 99.9, 99.95, 99.99, 99.995, 99.999]

export function summarize (recording: LatencyRecording, context: SummaryContext): LoadResult {
  const { settings } = context
  const { sent, succeeded, timedOut, completed } = recording
  const seconds = settings.durationSeconds > 0 ? settings.durationSeconds : 1
  const sendLagP99Ms = valueAtMs(recording.sendLag, 99)

  return {
    kind: 'open-model-load',
    startedAt: context.startedAt,
    settings,
    mix: context.mix,
    requests: { sent, completed, succeeded, failed: sent - succeeded, timedOut },
    successRate: sent === 0 ? 0 : succeeded / sent,
    latencyMs: latencySummary(recording.overall),
    percentileDistribution: percentileDistribution(recording.overall),
    errorsByType: Object.fromEntries([...recording.errorsByType].sort((a, b) => b[1] - a[1])),
    achievedRps: {
      sent: round(sent / seconds, 1),
      completed: round(completed / seconds, 1),
      succeeded: round(succeeded / seconds, 1)
    },
    perSecond: perSecondStats(recording),
    byOperation: recording.operations.map((operation): OperationStats => ({
      name: operation.name,
      count: operation.count,
      errors: operation.errors,
      p50Ms: valueAtMs(operation.histogram, 50),
      p99Ms: valueAtMs(operation.histogram, 99),
      maxMs: maxMs(operation.histogram)
    })),
    generator: {
      sendLagP99Ms,
      sendLagMaxMs: maxMs(recording.sendLag),
      keptUp: sendLagP99Ms <= GENERATOR_LAG_LIMIT_MS
    },
    server: context.server
  }
}

export function latencySummary (histogram: Histogram): LatencySummaryMs {
  return {
    p50: valueAtMs(histogram, 50),
    p90: valueAtMs(histogram, 90),
    p99: valueAtMs(histogram, 99),
    p999: valueAtMs(histogram, 99.9),
    max: maxMs(histogram),
    mean: histogram.totalCount === 0 ? 0 : round(histogram.mean / 1000, 3)
  }
}

export function percentileDistribution (histogram: Histogram): PercentilePoint[] {
  const count = histogram.totalCount
  if (count === 0) return []
  const points: PercentilePoint[] = []
  for (const percentile of DISTRIBUTION_PERCENTILES) {
    // Beyond 1/count the "percentile" is just the max again; the plot would show a flat lie.
    if ((100 - percentile) / 100 * count < 1) break
    points.push({ percentile, latencyMs: valueAtMs(histogram, percentile) })
  }
  points.push({ percentile: 100, latencyMs: maxMs(histogram) })
  return points
}

// Private:

function perSecondStats (recording: LatencyRecording): SecondStats[] {
  const length = Math.max(recording.seconds.length, recording.completedBySecond.length)
  const stats: SecondStats[] = []
  for (let second = 0; second < length; second++) {
    const bucket = recording.seconds[second]
    stats.push({
      second,
      sent: bucket?.sent ?? 0,
      errors: bucket?.errors ?? 0,
      completed: recording.completedBySecond[second] ?? 0,
      p50Ms: bucket === undefined ? 0 : valueAtMs(bucket.histogram, 50),
      p99Ms: bucket === undefined ? 0 : valueAtMs(bucket.histogram, 99),
      maxMs: bucket === undefined ? 0 : maxMs(bucket.histogram)
    })
  }
  return stats
}

function valueAtMs (histogram: Histogram, percentile: number): number {
  return histogram.totalCount === 0 ? 0 : round(histogram.getValueAtPercentile(percentile) / 1000, 3)
}

function maxMs (histogram: Histogram): number {
  return histogram.totalCount === 0 ? 0 : round(histogram.maxValue / 1000, 3)
}

function round (value: number, digits: number): number {
  const scale = 10 ** digits
  return Math.round(value * scale) / scale
}
