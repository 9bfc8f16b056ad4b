/**
 * Load shedding with @fastify/under-pressure: when the event-loop delay or the heap is over
 * its threshold (SHED_MAX_EVENT_LOOP_DELAY_MS, SHED_MAX_HEAP_USED_BYTES; 0 = off), new
 * requests get 503 + Retry-After with a GraphQL-shaped SERVICE_UNAVAILABLE body, before any
 * work is done for them. Health probes and /metrics are exempt: an orchestrator must still
 * see the process, and the metrics are how an operator sees the shedding.
 * Shed requests are counted in jotter_requests_shed_total.
 */
import underPressure from '@fastify/under-pressure'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Counter, type Registry } from 'prom-client'
import type { Config } from '../config.ts'
import { errorBodyOf, RETRY_AFTER_SECONDS } from '../errors.ts'
import { sendNotReady } from './health.ts'

const EXEMPT_PREFIXES = ['/health/', '/metrics']
// Built once: a shed request must cost as little as possible.
const OVERLOADED = errorBodyOf('OVERLOADED')
const NOT_STARTED = errorBodyOf('NOT_STARTED')
const JSON_TYPE = 'application/json; charset=utf-8'

export interface LoadSheddingOptions {
  metrics?: Registry
  /** How often the pressure is sampled (ms); tests use a short one. */
  sampleIntervalMs?: number
}

export async function registerLoadShedding (
  app: FastifyInstance,
  config: Pick<Config, 'shedMaxEventLoopDelayMs' | 'shedMaxHeapUsedBytes'>,
  { metrics, sampleIntervalMs = 500 }: LoadSheddingOptions = {}
): Promise<void> {
  if (config.shedMaxEventLoopDelayMs === 0 && config.shedMaxHeapUsedBytes === 0) return
  const shed = new Counter({
    name: 'jotter_requests_shed_total',
    help: 'Requests refused with 503 because the process was overloaded.',
    labelNames: ['reason'] as const,
    registers: metrics ? [metrics] : []
  })
  await app.register(underPressure, {
    maxEventLoopDelay: config.shedMaxEventLoopDelayMs,
    maxHeapUsedBytes: config.shedMaxHeapUsedBytes,
    sampleInterval: sampleIntervalMs,
    // under-pressure sends what the handler returns; its typing says void.
    pressureHandler: ((request: FastifyRequest, reply: FastifyReply, type: string) => {
      // Returning undefined lets the request through.
      if (EXEMPT_PREFIXES.some((prefix) => request.url.startsWith(prefix))) return undefined
      shed.inc({ reason: type })
      reply.code(503).header('retry-after', String(RETRY_AFTER_SECONDS)).header('content-type', JSON_TYPE)
      return OVERLOADED
    }) as (request: FastifyRequest, reply: FastifyReply, type: string) => void
  })
}

/**
 * Until `ready` resolves (the database answered and is migrated), every request but the
 * liveness probe and /metrics answers 503 + Retry-After: /health/ready says "starting", the
 * API says SERVICE_UNAVAILABLE. A failed start (bad migration) keeps refusing and is logged.
 */
export function registerStartupGate (app: FastifyInstance, ready: Promise<void>): void {
  let open = false
  ready.then(() => { open = true }, (error: unknown) => app.log.error({ err: error }, 'database start-up failed; not ready'))
  // Callback style: once open, the gate costs one comparison and no promise per request.
  app.addHook('onRequest', (request, reply, done) => {
    if (open || request.url.startsWith('/health/live') || request.url.startsWith('/metrics')) return done()
    // Answered here: done() is not called, so nothing after this hook runs.
    if (request.url.startsWith('/health/ready')) sendNotReady(reply, 'starting')
    else reply.code(503).header('retry-after', String(RETRY_AFTER_SECONDS)).header('content-type', JSON_TYPE).send(NOT_STARTED)
  })
}
