/**
 * The server's GC pauses and heap allocation as the load test reads them from /metrics
 * (bench/load/gc-pauses.ts, server-metrics.ts), the reports that show them, and the pinning
 * decision every benchmark states. Pure functions over fixed Prometheus text.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { decidePinning } from '../../bench/load/cpu-pinning.ts'
import { gcBetweenSamples, gcPausesBetween, parseGcHistogram } from '../../bench/load/gc-pauses.ts'
import { renderHtmlReport, summarizeServerMetrics } from '../../bench/load/index.ts'
import type { LoadResult, ServerMetricsSnapshot } from '../../bench/load/index.ts'
import { formatResultText } from '../../bench/load/text-report.ts'

/** Prometheus text of nodejs_gc_duration_seconds with cumulative counts per edge, for two kinds. */
function gcText (minor: Record<string, number>, minorSum: number, major: Record<string, number>, majorSum: number): string {
  const lines = ['# TYPE nodejs_gc_duration_seconds histogram']
  for (const [kind, buckets, sum] of [['minor', minor, minorSum], ['major', major, majorSum]] as const) {
    for (const [le, count] of Object.entries(buckets)) lines.push(`nodejs_gc_duration_seconds_bucket{le="${le}",kind="${kind}"} ${count}`)
    lines.push(`nodejs_gc_duration_seconds_sum{kind="${kind}"} ${sum}`, `nodejs_gc_duration_seconds_count{kind="${kind}"} ${buckets['+Inf']}`)
  }
  return lines.join('\n')
}

describe('GC pauses from the histogram', () => {
  const before = parseGcHistogram(gcText({ 0.001: 5, 0.01: 10, 0.1: 10, '+Inf': 10 }, 0.03, { 0.001: 0, 0.01: 0, 0.1: 1, '+Inf': 1 }, 0.05))
  // 100 more minor pauses: 90 under 1 ms, 10 between 1 and 10 ms; one major of 10-100 ms.
  const after = parseGcHistogram(gcText({ 0.001: 95, 0.01: 110, 0.1: 110, '+Inf': 110 }, 0.13, { 0.001: 0, 0.01: 0, 0.1: 2, '+Inf': 2 }, 0.09))

  test('sums the kinds per edge and keeps each kind\'s count and sum', () => {
    assert.ok(before !== null)
    assert.deepEqual(before.buckets, [[0.001, 5], [0.01, 10], [0.1, 11], [Infinity, 11]])
    assert.equal(before.count, 11)
    assert.deepEqual(before.byKind.major, { count: 1, sumSeconds: 0.05 })
    assert.equal(parseGcHistogram('process_cpu_seconds_total 3'), null, 'no histogram: null, not zero pauses')
  })

  test('pauses between two readings: count, time, interpolated quantiles, the longest as a bucket edge', () => {
    const summary = gcPausesBetween(before, after, 10)
    assert.ok(summary !== null)
    assert.equal(summary.pauses, 101)
    assert.equal(summary.perSecond, 10.1)
    assert.equal(summary.totalMs, 140)
    assert.equal(summary.shareOfWindow, 0.014)
    // Rank 50.5 of 101 lies in the first bucket (90 pauses in 0-1 ms): 50.5 / 90 of the way.
    assert.equal(summary.p50Ms, 0.56)
    // Rank 99.99 lies among the 10 pauses of 1-10 ms: (99.99 - 90) / 10 of the way.
    assert.equal(summary.p99Ms, 9.99)
    assert.equal(summary.maxMsAtMost, 100)
    assert.deepEqual(summary.byKind, [{ kind: 'major', pauses: 1, totalMs: 40, meanMs: 40 }, { kind: 'minor', pauses: 100, totalMs: 100, meanMs: 1 }])
  })

  test('no pauses, and missing readings, say so', () => {
    const none = gcPausesBetween(after, after, 5)
    assert.equal(none?.pauses, 0)
    assert.equal(none?.maxMsAtMost, null)
    assert.equal(gcPausesBetween(null, after, 5), null)
    assert.deepEqual(gcBetweenSamples(before, after), { pauseMs: 140, longestAtMostMs: 100 })
    assert.deepEqual(gcBetweenSamples(null, after), { pauseMs: null, longestAtMostMs: null })
  })
})

describe('heap allocation over the window', () => {
  const snapshot = (atMs: number, heapAllocatedBytes: number | null, gcText?: string): ServerMetricsSnapshot =>
    ({ atMs, cacheHits: 0, cacheMisses: 0, sqlStatements: 0, rssBytes: 1, cpuSeconds: 0, heapAllocatedBytes, gc: gcText === undefined ? null : parseGcHistogram(gcText) })

  test('per request, with every scrape inside the window subtracted at what one scrape costs', () => {
    // 3 sampler scrapes inside (1000, 4000) plus the last one's own: 4 × 50 kB out of 4.2 MB.
    const samples = [snapshot(500, 0), snapshot(1500, 0), snapshot(2500, 0), snapshot(3500, 0)]
    const summary = summarizeServerMetrics('m', snapshot(1000, 1_000_000), snapshot(4000, 5_200_000), samples, 1000, 1000, snapshot(4100, 5_250_000))
    assert.equal(summary.scrapeAllocatedBytes, 50_000)
    assert.equal(summary.heapAllocatedBytes, 4_000_000)
    assert.equal(summary.allocatedBytesPerRequest, 4000)
  })

  test('a server without the counter gives n/a, not 0', () => {
    const summary = summarizeServerMetrics('m', snapshot(1000, null), snapshot(4000, null), [], 1000, 1000, snapshot(4100, null))
    assert.equal(summary.heapAllocatedBytes, null)
    assert.equal(summary.allocatedBytesPerRequest, null)
    assert.equal(summary.gcPauses, null)
  })
})

describe('reports', () => {
  test('the text and HTML reports carry allocation, GC pauses and the per-second p99 against GC time', () => {
    const result = {
      kind: 'open-model-load',
      startedAt: '2026-12-01T00:00:00.000Z',
      settings: { url: 'http://127.0.0.1:1/graphql', rate: 100, durationSeconds: 2, warmupSeconds: 0, timeoutMs: 1000, connections: 1, pipelining: 1, users: 1, writeShare: 0, idSkew: 0 },
      mix: [{ name: 'q', weight: 100 }],
      requests: { sent: 200, completed: 200, succeeded: 200, failed: 0, timedOut: 0 },
      successRate: 1,
      latencyMs: { p50: 1, p90: 2, p99: 3, p999: 4, max: 5, mean: 1 },
      percentileDistribution: [{ percentile: 50, latencyMs: 1 }, { percentile: 100, latencyMs: 5 }],
      errorsByType: {},
      achievedRps: { sent: 100, completed: 100, succeeded: 100 },
      perSecond: [{ second: 0, sent: 100, errors: 0, completed: 100, p50Ms: 1, p99Ms: 3, maxMs: 5 }, { second: 1, sent: 100, errors: 0, completed: 100, p50Ms: 1, p99Ms: 30, maxMs: 31 }],
      byOperation: [],
      generator: { sendLagP99Ms: 0, sendLagMaxMs: 0, keptUp: true },
      server: {
        metricsUrl: 'm',
        available: true,
        cacheHits: 0,
        cacheMisses: 0,
        cacheHitRate: null,
        sqlStatements: 0,
        sqlStatementsPerRequest: 0,
        peakRssBytes: null,
        meanCpuPercent: null,
        heapAllocatedBytes: 4 * 1024 * 1024,
        allocatedBytesPerRequest: 20_480,
        scrapeAllocatedBytes: 800 * 1024,
        gcPauses: { pauses: 3, perSecond: 1.5, totalMs: 40, shareOfWindow: 0.02, p50Ms: 5, p99Ms: 24.5, maxMsAtMost: 30, byKind: [{ kind: 'minor', pauses: 3, totalMs: 40, meanMs: 13.33 }] },
        samples: [{ second: 1, rssBytes: null, cpuPercent: null, gcPauseMs: 12.5, gcLongestPauseMsAtMost: 15 }, { second: 2, rssBytes: null, cpuPercent: null, gcPauseMs: 27.5, gcLongestPauseMsAtMost: 30 }]
      }
    } satisfies LoadResult
    const text = formatResultText(result)
    assert.match(text, /heap alloc {3}20\.0 KB per request, hits and misses together \(4 MiB over the window; the \/metrics scrapes' 800 KB each subtracted\)/)
    assert.match(text, /GC pauses {4}3 \(1\.5\/s\): p50 5 ms, p99 24\.5 ms, longest ≤ 30 ms; 40 ms in all, 2\.00 % of the window \(minor 3 × 13\.33 ms\)/)
    const html = renderHtmlReport(result)
    assert.ok(html.includes('Per-second p99 and the server&#39;s GC pauses'))
    assert.ok(html.includes('GC ms that second'))
    assert.ok(html.includes('longest GC ≤'))
    const older = { ...result, server: { ...result.server, heapAllocatedBytes: undefined, allocatedBytesPerRequest: undefined, gcPauses: undefined } }
    assert.match(formatResultText(older), /heap alloc {3}n\/a .*\n {2}GC pauses {4}n\/a/, 'a result without the figures (an older JSON) says n/a')
  })
})

describe('pinning decision', () => {
  test('--no-pin is honoured and said; otherwise pinned, or the reason it cannot be', () => {
    const off = decidePinning(false)
    assert.equal(off.pin, false)
    assert.match(off.note, /^not pinned \(--no-pin\)/)
    const wanted = decidePinning(true)
    assert.match(wanted.note, wanted.pin ? /^pinned: server and PostgreSQL on CPU 0, generator on CPU 1/ : /^not pinned \((taskset is not on PATH|this process may only use CPUs .*)\)/)
  })
})
