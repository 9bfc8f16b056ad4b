/**
 * Gives every HTTP request its deadline (HTTP_TIMEOUT_MS) at onRequest, aborted early when the
 * client disconnects, and disposed (with its GraphQL child) when the response is sent.
 *
 * The HTTP budget is also the last line: if it runs out and nothing has answered yet (work
 * stuck somewhere the signal does not reach), the request is answered 504 TIMEOUT right then.
 * Timeouts are counted once per request in jotter_timeouts_total{layer}.
 */
import type { FastifyInstance } from 'fastify'
import { Counter, type Registry } from 'prom-client'
import { createDeadline, type Deadline } from './deadline.ts'

declare module 'fastify' {
  interface FastifyRequest {
    deadline: Deadline
  }
}

export interface RequestDeadlineOptions {
  httpTimeoutMs: number
  /** Where jotter_timeouts_total is registered (the app's registry). */
  metrics?: Registry
}

export function registerRequestDeadline (app: FastifyInstance, { httpTimeoutMs, metrics }: RequestDeadlineOptions): void {
  const timeouts = new Counter({
    name: 'jotter_timeouts_total',
    help: 'Requests that ran out of time, by the layer whose budget ran out (http, graphql, database).',
    labelNames: ['layer'] as const,
    registers: metrics ? [metrics] : []
  })
  const onTimeout = (layer: string): void => timeouts.inc({ layer })

  app.decorateRequest('deadline', null as unknown as Deadline)
  const lastLines = new WeakMap<object, NodeJS.Timeout>()
  app.addHook('onRequest', async (request, reply) => {
    const deadline = createDeadline(httpTimeoutMs, undefined, { layer: 'http', onTimeout })
    request.deadline = deadline
    // A client that goes away before the answer is written aborts the work done for it.
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) deadline.abort(new Error('client disconnected'))
    })
    // The last line (a plain timer: the deadline's signal is made only when SQL needs it).
    const lastLine = setTimeout(() => {
      deadline.abort(deadline.timeoutError('http'))
      if (!reply.sent && !reply.raw.headersSent && !reply.raw.destroyed) reply.send(deadline.timeoutError('http'))
    }, httpTimeoutMs)
    lastLine.unref()
    lastLines.set(request, lastLine)
  })
  app.addHook('onResponse', async (request) => {
    clearTimeout(lastLines.get(request))
    request.deadline.dispose()
  })
}
