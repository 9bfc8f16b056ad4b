/**
 * The closed-loop half of `npm run bench:compare`: a fixed number of connections, each sending
 * its next request of the mix as soon as the previous answer is in. Its requests per second is
 * the most a server answers with that many clients waiting on it: its throughput, not its
 * latency (a closed loop slows down with the server it measures; run-open-model-load.ts says why
 * latency is measured on a schedule instead).
 *
 * Answers are judged as the open-model run judges them (response-outcome.ts, then the mix's
 * own check of a write's answer), so "success" means the same in both halves. A mix sent as
 * persisted-query hashes sends the document only after PERSISTED_QUERY_NOT_FOUND, as a client
 * does, within the same request. The loop ends by itself: no new request after
 * `durationSeconds`, none waits longer than `timeoutMs`.
 */
import { performance } from 'node:perf_hooks'
import { Pool } from 'undici'
import { TIMEOUT_ERROR_TYPE } from '../load/latency-recorder.ts'
import type { RequestMix } from '../load/request-mix.ts'
import { classifyNetworkError, classifyResponse } from '../load/response-outcome.ts'

export interface ClosedLoopOptions {
  url: string
  mix: RequestMix
  connections: number
  durationSeconds: number
  /** Per request; later counts as a "timeout" error. Default 5000, as the open-model run. */
  timeoutMs?: number
}

export interface ClosedLoopResult {
  requests: number
  /** Of those, mutations (the mix's planned writes). */
  writes: number
  succeeded: number
  /** From the first request to the last answer. */
  seconds: number
  requestsPerSecond: number
  /** Request body bytes sent, documents resent after PERSISTED_QUERY_NOT_FOUND included. */
  requestBytes: number
  errorsByType: Record<string, number>
}

export async function runClosedLoop (options: ClosedLoopOptions): Promise<ClosedLoopResult> {
  const { mix, connections, durationSeconds } = options
  const timeoutMs = options.timeoutMs ?? 5000
  if (!Number.isInteger(connections) || connections < 1) throw new RangeError(`connections must be a positive integer: ${connections}`)
  if (!(durationSeconds > 0) || !Number.isFinite(durationSeconds)) throw new RangeError(`durationSeconds must be a positive number: ${durationSeconds}`)
  const target = new URL(options.url)
  const path = target.pathname + target.search
  const pool = new Pool(target.origin, { connections, pipelining: 1, headersTimeout: timeoutMs, bodyTimeout: timeoutMs })
  const errorsByType = new Map<string, number>()
  let requests = 0
  let writes = 0
  let succeeded = 0
  let requestBytes = 0
  const send = async (headers: Record<string, string>, body: string): Promise<{ statusCode: number, text: string }> => {
    requestBytes += Buffer.byteLength(body)
    const response = await pool.request({ path, method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) })
    return { statusCode: response.statusCode, text: await response.body.text() }
  }
  const startMs = performance.now()
  const endMs = startMs + durationSeconds * 1000

  async function client (): Promise<void> {
    while (performance.now() < endMs) {
      const planned = mix.next()
      let errorType: string | null
      try {
        let answer = await send(planned.headers, planned.body)
        if (planned.documentBody !== undefined && classifyResponse(answer.statusCode, answer.text)?.endsWith(' PERSISTED_QUERY_NOT_FOUND')) {
          answer = await send(planned.headers, planned.documentBody)
        }
        errorType = classifyResponse(answer.statusCode, answer.text) ?? mix.learn(planned, answer.text)
      } catch (error) {
        errorType = (error as Error).name === 'TimeoutError' ? TIMEOUT_ERROR_TYPE : classifyNetworkError(error as Error)
      }
      requests++
      if (planned.expect !== undefined) writes++
      if (errorType === null) succeeded++
      else errorsByType.set(errorType, (errorsByType.get(errorType) ?? 0) + 1)
    }
  }

  try {
    await Promise.all(Array.from({ length: connections }, client))
  } finally {
    await pool.destroy()
  }
  const seconds = (performance.now() - startMs) / 1000
  return { requests, writes, succeeded, seconds, requestsPerSecond: requests / seconds, requestBytes, errorsByType: Object.fromEntries(errorsByType) }
}
