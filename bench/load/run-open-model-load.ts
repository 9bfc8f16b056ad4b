/**
 * The open-model run: requests leave on a fixed schedule whether or not earlier ones have
 * returned, and each latency counts from the request's scheduled start. A server that stalls
 * for a second therefore shows a second in the percentiles, instead of the generator politely
 * waiting with it ("coordinated omission", which closed-loop tools like autocannon suffer from).
 *
 * Our own code because neither npm nor Debian has an open-model load generator we can run
 * from Node 20 (autocannon is closed-loop; wrk2, vegeta and k6 are native binaries outside
 * both). Built on undici (a Pool, many keep-alive connections) and hdr-histogram-js.
 *
 * The loop is a 1 ms timer that sends every request whose time has come and times out every
 * request whose budget has run out; nothing in it awaits, so a slow response never delays the
 * next send. The run ends by itself: at the end of the schedule plus at most `timeoutMs`.
 */
import { performance } from 'node:perf_hooks'
import { Pool } from 'undici'
import { createArrivalSchedule } from './arrival-schedule.ts'
import { InFlightRequest } from './in-flight-request.ts'
import type { ResponseObserver, RunState } from './in-flight-request.ts'
import { createLatencyRecorder } from './latency-recorder.ts'
import type { PlannedRequest, RequestMix } from './request-mix.ts'
import type { LoadResult } from './result-types.ts'
import { createServerMetricsScraper, defaultMetricsUrl, startServerMetricsSampler, summarizeServerMetrics } from './server-metrics.ts'
import type { ServerMetricsSnapshot } from './server-metrics.ts'
import { summarize } from './summarize.ts'

export interface OpenModelLoadOptions {
  /** The GraphQL endpoint, e.g. http://127.0.0.1:8080/graphql. */
  url: string
  /** Arrival rate in requests per second. */
  rate: number
  /** Length of the measured window in seconds. */
  durationSeconds: number
  mix: RequestMix
  /** Seconds of load before the window, sent but not recorded. Default 0. */
  warmupSeconds?: number
  /** Per-request budget from its scheduled start; later counts as a "timeout" error. Default 5000. */
  timeoutMs?: number
  /** Keep-alive connections of the pool. Default 64. */
  connections?: number
  /** Requests in flight per connection. Default 1. */
  pipelining?: number
  /** Prometheus endpoint; default the URL's origin + /metrics; null = do not scrape. */
  metricsUrl?: string | null
  /** Called once a second while the run lasts (the CLI prints it to stderr). */
  onProgress?: (progress: LoadProgress) => void
  /** Scheduler tick in ms. Default 1. */
  tickMs?: number
  /**
   * Sees every response that arrives in time (warmup included) with its outcome, for a caller
   * that checks answers beyond their status (check:integrity). Default: none.
   */
  onResponse?: ResponseObserver
}

export interface LoadProgress {
  phase: 'warmup' | 'measure' | 'drain'
  /** Seconds since the first request was due (warmup included). */
  elapsedSeconds: number
  sentLastSecond: number
  completedLastSecond: number
  /** Over the measured window so far; null until a measured request has finished. */
  p99SoFarMs: number | null
  errorsSoFar: number
  inFlight: number
  server: { rssBytes: number | null, cpuPercent: number | null } | null
}

export const loadDefaults = Object.freeze({ warmupSeconds: 0, timeoutMs: 5000, connections: 64, pipelining: 1, tickMs: 1 })

export async function runOpenModelLoad (options: OpenModelLoadOptions): Promise<LoadResult> {
  const warmupSeconds = options.warmupSeconds ?? loadDefaults.warmupSeconds
  const timeoutMs = options.timeoutMs ?? loadDefaults.timeoutMs
  const connections = options.connections ?? loadDefaults.connections
  const pipelining = options.pipelining ?? loadDefaults.pipelining
  const tickMs = options.tickMs ?? loadDefaults.tickMs
  const { mix, rate, durationSeconds } = options
  requirePositive('durationSeconds', durationSeconds)
  requirePositive('timeoutMs', timeoutMs)
  requirePositive('tickMs', tickMs)
  requirePositiveInteger('connections', connections)
  requirePositiveInteger('pipelining', pipelining)
  if (!(warmupSeconds >= 0)) throw new RangeError(`warmupSeconds must be zero or a positive number: ${warmupSeconds}`)
  const target = new URL(options.url)
  const path = target.pathname + target.search
  const metricsUrl = options.metricsUrl === undefined ? defaultMetricsUrl(options.url) : options.metricsUrl

  // undici's own timeouts are only a backstop: ours count from the schedule, so fire first.
  const pool = new Pool(target.origin, {
    connections,
    pipelining,
    headersTimeout: timeoutMs + 1000,
    bodyTimeout: timeoutMs + 1000,
    connect: { timeout: timeoutMs }
  })
  const scraper = metricsUrl === null ? null : createServerMetricsScraper(metricsUrl, () => performance.now())
  const sampler = scraper === null ? null : startServerMetricsSampler(scraper)

  const startedAt = new Date().toISOString()
  // The baseline scrape precedes the first request when there is no warmup to absorb it.
  let firstSnapshot: Promise<ServerMetricsSnapshot | null> | null = warmupSeconds === 0 && scraper !== null ? Promise.resolve(await scraper.scrape()) : null
  const startMs = performance.now()
  const windowStartMs = startMs + warmupSeconds * 1000
  const schedule = createArrivalSchedule(rate, warmupSeconds + durationSeconds, startMs)
  const windowEndMs = startMs + (warmupSeconds + durationSeconds) * 1000
  const drainDeadlineMs = windowEndMs + timeoutMs + 50
  const recorder = createLatencyRecorder(mix.operationNames, windowStartMs)

  // Dispatched a microtask later: not from inside undici's own onResponseEnd callback.
  const sendDocument = (planned: PlannedRequest, request: InFlightRequest): void => {
    queueMicrotask(() => { if (!request.settled) pool.dispatch({ path, method: 'POST', headers: planned.headers, body: planned.documentBody }, request) })
  }
  const run: RunState = { recorder, mix, onResponse: options.onResponse ?? ignoreResponse, sendDocument, inFlight: 0, completedTotal: 0, errorsSoFar: 0 }
  // Requests in schedule order, so the oldest deadline is always at `head`.
  let fifo: InFlightRequest[] = []
  let head = 0
  let sentTotal = 0
  let nextProgressMs = startMs + 1000
  let progressLines = 0
  let sentAtLastProgress = 0
  let completedAtLastProgress = 0

  function send (index: number, nowMs: number): void {
    const dueMs = schedule.dueAt(index)
    const planned = mix.next()
    const measured = dueMs >= windowStartMs
    const request = new InFlightRequest(run, planned, dueMs, measured)
    if (measured) recorder.recordSent(planned.operationIndex, dueMs, nowMs)
    fifo.push(request)
    run.inFlight++
    sentTotal++
    pool.dispatch({ path, method: 'POST', headers: planned.headers, body: planned.body }, request)
  }

  function sweepTimeouts (nowMs: number): void {
    while (head < fifo.length) {
      const request = fifo[head]
      if (!request.settled) {
        if (request.dueMs + timeoutMs > nowMs) break
        request.timeOut(nowMs)
      }
      head++
    }
    // Drop the swept prefix now and then rather than shifting the array on every request.
    if (head > 4096 && head * 2 > fifo.length) {
      fifo = fifo.slice(head)
      head = 0
    }
  }

  function reportProgress (nowMs: number): void {
    // The line describes the second that just ended, so it takes that second's phase
    // (counted in whole seconds: start + 1000 - 1000 need not equal start in floats).
    const reportedSecond = progressLines++
    nextProgressMs += 1000
    if (options.onProgress === undefined) return
    const completedTotal = run.completedTotal
    options.onProgress({
      phase: reportedSecond < warmupSeconds ? 'warmup' : reportedSecond < warmupSeconds + durationSeconds ? 'measure' : 'drain',
      elapsedSeconds: Math.round((nowMs - startMs) / 1000),
      sentLastSecond: sentTotal - sentAtLastProgress,
      completedLastSecond: completedTotal - completedAtLastProgress,
      p99SoFarMs: recorder.overall.totalCount === 0 ? null : recorder.overall.getValueAtPercentile(99) / 1000,
      errorsSoFar: run.errorsSoFar,
      inFlight: run.inFlight,
      server: sampler?.current() ?? null
    })
    sentAtLastProgress = sentTotal
    completedAtLastProgress = completedTotal
  }

  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const nowMs = performance.now()
      if (firstSnapshot === null && scraper !== null && nowMs >= windowStartMs) firstSnapshot = scraper.scrape()
      for (let index = schedule.takeDue(nowMs); index !== -1; index = schedule.takeDue(nowMs)) send(index, nowMs)
      sweepTimeouts(nowMs)
      if (nowMs >= nextProgressMs) reportProgress(nowMs)
      if (schedule.finished && (run.inFlight === 0 || nowMs >= drainDeadlineMs)) {
        // The last, usually partial, second gets its line too, unless nothing happened in it.
        if (sentTotal !== sentAtLastProgress || run.completedTotal !== completedAtLastProgress) reportProgress(nowMs)
        clearInterval(timer)
        resolve()
      }
    }, tickMs)
  })

  // Anything still open here is past its budget; destroy fails it without waiting on it.
  await pool.destroy()
  const samples = sampler === null ? [] : await sampler.stop()
  const lastSnapshot = scraper === null ? null : await scraper.scrape()
  // Right after the last one, on an idle server: what one scrape allocates there.
  const scrapeCostSnapshot = scraper === null ? null : await scraper.scrape()
  await scraper?.close()
  const server = summarizeServerMetrics(metricsUrl ?? 'none', await (firstSnapshot ?? Promise.resolve(null)), lastSnapshot, samples, windowStartMs, recorder.sent, scrapeCostSnapshot)

  const result = summarize(recorder, {
    startedAt,
    mix: [...mix.weights],
    server,
    settings: {
      url: options.url,
      rate,
      durationSeconds,
      warmupSeconds,
      timeoutMs,
      connections,
      pipelining,
      users: mix.userCount,
      writeShare: mix.writeShare,
      idSkew: mix.idSkew
    }
  })
  recorder.destroy()
  return result
}

// Private:

function ignoreResponse (): void {}

function requirePositive (name: string, value: number): void {
  if (!(value > 0) || !Number.isFinite(value)) throw new RangeError(`${name} must be a positive number: ${value}`)
}

function requirePositiveInteger (name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer: ${value}`)
}
