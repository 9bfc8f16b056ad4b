/**
 * Where the outcome of every measured request goes: HdrHistograms in microseconds (overall,
 * per operation, per scheduled second), error counts by type, and the generator's own lag.
 *
 * Latency is always `finished - scheduled`, never `finished - sent`: a request that waited in
 * the generator or in a connection queue behind a stalled server counts its wait. A timed-out
 * request is recorded at the timeout, a lower bound of its latency, so it is not omitted from
 * the percentiles either.
 */
import { build } from 'hdr-histogram-js'
import type { Histogram } from 'hdr-histogram-js'

export interface SecondBucket {
  histogram: Histogram
  sent: number
  errors: number
}

export interface OperationBucket {
  name: string
  histogram: Histogram
  count: number
  errors: number
}

export interface LatencyRecording {
  readonly overall: Histogram
  readonly sendLag: Histogram
  readonly operations: readonly OperationBucket[]
  /** Indexed by the second (since the window start) the request was scheduled in. */
  readonly seconds: readonly SecondBucket[]
  /** Indexed by the second the request finished in; may run past the window while draining. */
  readonly completedBySecond: readonly number[]
  readonly errorsByType: ReadonlyMap<string, number>
  readonly sent: number
  readonly completed: number
  readonly succeeded: number
  readonly timedOut: number
}

export interface LatencyRecorder extends LatencyRecording {
  /** A measured request left the generator `sentMs - dueMs` after its schedule. */
  recordSent (operationIndex: number, dueMs: number, sentMs: number): void
  /** `errorType` null = success. Timeouts use {@link TIMEOUT_ERROR_TYPE}. */
  recordOutcome (operationIndex: number, dueMs: number, finishedMs: number, errorType: string | null): void
  /** Frees the histograms (they hold typed arrays that can be large). */
  destroy (): void
}

export const TIMEOUT_ERROR_TYPE = 'timeout'

/**
 * @param operationNames one per request-mix entry, in mix order
 * @param windowStartMs the start of the measured window, same clock as the times recorded
 */
export function createLatencyRecorder (operationNames: readonly string[], windowStartMs: number): LatencyRecorder {
  const overall = preciseHistogram()
  const sendLag = coarseHistogram()
  const operations: OperationBucket[] = operationNames.map((name) => ({ name, histogram: preciseHistogram(), count: 0, errors: 0 }))
  const seconds: SecondBucket[] = []
  const completedBySecond: number[] = []
  const errorsByType = new Map<string, number>()
  let sent = 0
  let completed = 0
  let succeeded = 0
  let timedOut = 0

  // The epsilon keeps a request due at exactly start + 1000 ms (as float arithmetic computes
  // it, maybe 999.9999999) in second 1, so 200 rps puts exactly 200 requests in each second.
  function secondOf (ms: number): number {
    return Math.max(0, Math.floor((ms - windowStartMs) / 1000 + 1e-9))
  }

  function secondBucket (dueMs: number): SecondBucket {
    const index = secondOf(dueMs)
    while (seconds.length <= index) seconds.push({ histogram: coarseHistogram(), sent: 0, errors: 0 })
    return seconds[index]
  }

  return {
    overall,
    sendLag,
    operations,
    seconds,
    completedBySecond,
    errorsByType,
    get sent () { return sent },
    get completed () { return completed },
    get succeeded () { return succeeded },
    get timedOut () { return timedOut },

    recordSent (operationIndex, dueMs, sentMs) {
      sent++
      operations[operationIndex].count++
      secondBucket(dueMs).sent++
      sendLag.recordValue(toMicros(sentMs - dueMs))
    },

    recordOutcome (operationIndex, dueMs, finishedMs, errorType) {
      const latencyMicros = toMicros(finishedMs - dueMs)
      const bucket = secondBucket(dueMs)
      const operation = operations[operationIndex]
      overall.recordValue(latencyMicros)
      bucket.histogram.recordValue(latencyMicros)
      operation.histogram.recordValue(latencyMicros)

      const finishedSecond = secondOf(finishedMs)
      while (completedBySecond.length <= finishedSecond) completedBySecond.push(0)
      completedBySecond[finishedSecond]++

      if (errorType === null) {
        completed++
        succeeded++
        return
      }
      if (errorType === TIMEOUT_ERROR_TYPE) timedOut++
      else completed++
      bucket.errors++
      operation.errors++
      errorsByType.set(errorType, (errorsByType.get(errorType) ?? 0) + 1)
    },

    destroy () {
      overall.destroy()
      sendLag.destroy()
      for (const operation of operations) operation.histogram.destroy()
      for (const second of seconds) second.histogram.destroy()
    }
  }
}

// Private:

/** At least 1 µs: HdrHistogram cannot record 0, and a 0 latency is a clock artefact anyway. */
function toMicros (ms: number): number {
  return Math.max(1, Math.round(ms * 1000))
}

/** Three significant digits (0.1 %) for the numbers the verdict is judged on. */
function preciseHistogram (): Histogram {
  return build({ bitBucketSize: 32, numberOfSignificantValueDigits: 3, lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, autoResize: true })
}

/**
 * Two digits (1 %) and a packed layout for the per-second buckets: a 5-minute run keeps 300 of
 * them, and a plot does not need more precision.
 */
function coarseHistogram (): Histogram {
  return build({ bitBucketSize: 'packed', numberOfSignificantValueDigits: 2, lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, autoResize: true })
}
