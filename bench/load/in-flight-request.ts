/**
 * One request of an open-model run, as undici's dispatch handler: it collects the response,
 * classifies it, and records its latency from its scheduled start, or is timed out by the run.
 *
 * Whatever settles it first wins (response, network error or timeout); later callbacks from
 * undici for the same request are ignored, so a request is counted exactly once.
 */
import { performance } from 'node:perf_hooks'
import type { Dispatcher } from 'undici'
import { TIMEOUT_ERROR_TYPE } from './latency-recorder.ts'
import type { LatencyRecorder } from './latency-recorder.ts'
import type { PlannedRequest, RequestMix } from './request-mix.ts'
import { classifyNetworkError, classifyResponse } from './response-outcome.ts'

/** Called with each response received in time: what was sent, the status, the body, null for a success else the error type. */
export type ResponseObserver = (planned: PlannedRequest, statusCode: number, bodyText: string, errorType: string | null) => void

/** What every request of one run shares: where outcomes go and the live counters. */
export interface RunState {
  readonly recorder: LatencyRecorder
  readonly mix: RequestMix
  readonly onResponse: ResponseObserver
  /** Sends the request again with `planned.documentBody`, the same handler answering. */
  readonly sendDocument: (planned: PlannedRequest, handler: InFlightRequest) => void
  inFlight: number
  completedTotal: number
  errorsSoFar: number
}

const TIMEOUT_REASON = new Error('request exceeded its budget from the scheduled start')

/**
 * One request as undici's dispatch handler. A class, so its callbacks live on the prototype
 * instead of being fresh closures for each of the thousands of requests a second.
 */
export class InFlightRequest implements Dispatcher.DispatchHandler {
  readonly dueMs: number
  settled = false
  private readonly run: RunState
  private readonly planned: PlannedRequest
  private readonly measured: boolean
  private controller: Dispatcher.DispatchController | null = null
  private statusCode = 0
  private chunks: Buffer[] = []
  private documentSent = false

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
    // A write that answered without errors is still checked against what it asked for.
    const errorType = classifyResponse(this.statusCode, text) ?? this.run.mix.learn(this.planned, text)
    if (errorType !== null && this.planned.documentBody !== undefined && !this.documentSent && errorType.endsWith(' PERSISTED_QUERY_NOT_FOUND')) {
      // What an APQ client does: the same request once more, with its document. Its latency
      // still counts from the scheduled start, so it includes both round trips.
      this.documentSent = true
      this.statusCode = 0
      this.chunks = []
      this.controller = null
      this.run.sendDocument(this.planned, this)
      return
    }
    this.settle(performance.now(), errorType)
    this.run.onResponse(this.planned, this.statusCode, text, errorType)
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
