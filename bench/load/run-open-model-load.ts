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
import type { Dispatcher } from 'undici'
import { createArrivalSchedule } from './arrival-schedule.ts'
import { TIMEOUT_ERROR_TYPE, createLatencyRecorder } from './latency-recorder.ts'
import type { LatencyRecorder } from './latency-recorder.ts'
import type { PlannedRequest, RequestMix } from './request-mix.ts'
import { classifyNetworkError, classifyResponse } from './response-outcome.ts'
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
}

export interface LoadProgress {
  phase: 'warmup' | 'measure' | 'drain'
  /** Seconds since the first request was due (warmup included). */
  elapsedSeconds: number
  sentLastSecond: number
  completedLastSecond: number
  /** Over the measured window so far; 0 during warmup. */
  p99SoFarMs: number
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

  const run: RunState = { recorder, mix, windowStartMs, inFlight: 0, completedTotal: 0, errorsSoFar: 0 }
  // Requests in schedule order, so the oldest deadline is always at `head`.
  let fifo: InFlightRequest[] = []
  let head = 0
  let sentTotal = 0
  let nextProgressMs = startMs + 1000
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
    nextProgressMs += 1000
    if (options.onProgress === undefined) return
    const completedTotal = run.completedTotal
    options.onProgress({
      phase: nowMs < windowStartMs ? 'warmup' : schedule.finished ? 'drain' : 'measure',
      elapsedSeconds: Math.round((nowMs - startMs) / 1000),
      sentLastSecond: sentTotal - sentAtLastProgress,
      completedLastSecond: completedTotal - completedAtLastProgress,
      p99SoFarMs: recorder.overall.totalCount === 0 ? 0 : recorder.overall.getValueAtPercentile(99) / 1000,
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
        clearInterval(timer)
        resolve()
      }
    }, tickMs)
  })

  // Anything still open here is past its budget; destroy fails it without waiting on it.
  await pool.destroy()
  const lastSnapshot = scraper === null ? null : await scraper.scrape()
  const samples = sampler === null ? [] : await sampler.stop()
  await scraper?.close()
  const server = summarizeServerMetrics(metricsUrl ?? 'none', await (firstSnapshot ?? Promise.resolve(null)), lastSnapshot, samples, windowStartMs, recorder.sent)

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
      writeShare: mix.writeShare
    }
  })
  recorder.destroy()
  return result
}

// Private:

interface RunState {
  readonly recorder: LatencyRecorder
  readonly mix: RequestMix
  readonly windowStartMs: number
  inFlight: number
  completedTotal: number
  errorsSoFar: number
}

const TIMEOUT_REASON = new Error('request exceeded its budget from the scheduled start')

/**
 * One request as undici's dispatch handler. A class, so its callbacks live on the prototype
 * instead of being fresh closures for each of the thousands of requests a second.
 */
class InFlightRequest implements Dispatcher.DispatchHandler {
  readonly dueMs: number
  settled = false
  private readonly run: RunState
  private readonly planned: PlannedRequest
  private readonly measured: boolean
  private controller: Dispatcher.DispatchController | null = null
  private statusCode = 0
  private chunks: Buffer[] = []

  constructor (run: RunState, planned: PlannedRequest, dueMs: number, measured: boolean) {
    this.run = run
    this.planned = planned
    this.dueMs = dueMs
    this.measured = measured
  }

  onRequestStart (controller: Dispatcher.DispatchController): void {
    // Timed out while queued behind busy connections: do not send it at all.
    if (this.settled) controller.abort(TIMEOUT_REASON)
    else this.controller = controller
  }

  onResponseStart (_controller: Dispatcher.DispatchController, statusCode: number): void {
    this.statusCode = statusCode
  }

  onResponseData (_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.settled) this.chunks.push(chunk)
  }

  onResponseEnd (): void {
    if (this.settled) return
    const text = this.chunks.length === 1 ? this.chunks[0].toString('utf8') : Buffer.concat(this.chunks).toString('utf8')
    const errorType = classifyResponse(this.statusCode, text)
    if (errorType === null) this.run.mix.learn(this.planned, text)
    this.settle(performance.now(), errorType)
  }

  onResponseError (_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.settled) return
    this.settle(performance.now(), classifyNetworkError(error))
  }

  timeOut (nowMs: number): void {
    this.settle(nowMs, TIMEOUT_ERROR_TYPE)
    this.controller?.abort(TIMEOUT_REASON)
  }

  private settle (nowMs: number, errorType: string | null): void {
    this.settled = true
    // A timed-out request can linger until its socket closes; do not keep its body alive.
    this.chunks = EMPTY_CHUNKS
    const run = this.run
    run.inFlight--
    run.completedTotal++
    if (errorType !== null) run.errorsSoFar++
    if (this.measured) run.recorder.recordOutcome(this.planned.operationIndex, this.dueMs, nowMs, errorType)
  }
}

const EMPTY_CHUNKS: Buffer[] = []
