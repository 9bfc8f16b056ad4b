/**
 * Gives every HTTP request its deadline (HTTP_TIMEOUT_MS) at onRequest, aborted early when the
 * client disconnects, and disposed (with its GraphQL child) when the response is sent.
 *
 * The HTTP budget is also the last line: if it runs out and nothing has answered yet (work
 * stuck somewhere the signal does not reach), the request is answered 504 TIMEOUT right then.
 * Timeouts are counted once per request in jotter_timeouts_total{layer}.
 */
import type { FastifyInstance, FastifyReply } from 'fastify'
import { Counter, type Registry } from 'prom-client'
import { createDeadline, type Deadline } from '../deadline/deadline.ts'
import type { OpenResponses } from '../observability/open-responses.ts'
import { createLastLineQueue, type LastLineEntry } from './last-line.ts'

declare module 'fastify' {
  interface FastifyRequest {
    deadline: Deadline
  }
  /** The HTTP budget's last line (last-line.ts) links the replies not yet sent through these. */
  interface FastifyReply {
    lastLinePrevious: LastLineEntry | null
    lastLineNext: LastLineEntry | null
    lastLineDueAt: number
  }
}

export interface RequestDeadlineOptions {
  httpTimeoutMs: number
  /** A response that closes unfinished (its client went away) aborts its deadline. */
  openResponses: OpenResponses
  /** Where jotter_timeouts_total is registered (the app's registry). */
  metrics?: Registry
}

export function registerRequestDeadline (app: FastifyInstance, { httpTimeoutMs, openResponses, metrics }: RequestDeadlineOptions): void {
  const timeouts = new Counter({
    name: 'jotter_timeouts_total',
    help: 'Requests that ran out of time, by the layer whose budget ran out (http, graphql, database).',
    labelNames: ['layer'] as const,
    registers: metrics ? [metrics] : []
  })
  const onTimeout = (layer: string): void => timeouts.inc({ layer })
  // Made once: an options literal per request would be garbage on every request.
  const httpDeadlineOptions = Object.freeze({ layer: 'http', onTimeout })

  // The last line: answers 504 if nothing else has when the budget ends.
  const lastLine = createLastLineQueue<FastifyReply>(httpTimeoutMs, (reply) => answerTimeout(reply, reply.request.deadline))
  app.addHook('onClose', async () => lastLine.close())

  app.decorateRequest('deadline', null as unknown as Deadline)
  // A client that goes away before the answer is written aborts the work done for it. (No
  // deadline: the request was answered before the hook below ran, by the startup gate or shedding.)
  openResponses.onClose((request, reply) => {
    if (!reply.raw.writableFinished) (request.deadline as Deadline | null)?.abort(new Error('client disconnected'))
  })
  app.decorateReply('lastLinePrevious', null)
  app.decorateReply('lastLineNext', null)
  app.decorateReply('lastLineDueAt', 0)
  // Callback-style hooks: no promise or microtask per request.
  app.addHook('onRequest', (request, reply, done) => {
    const deadline = createDeadline(httpTimeoutMs, undefined, httpDeadlineOptions)
    request.deadline = deadline
    // The last line (not the deadline's own timer: its signal is made only when SQL needs it).
    lastLine.add(reply)
    done()
  })
  app.addHook('onResponse', (request, reply, done) => {
    lastLine.remove(reply)
    request.deadline.dispose()
    done()
  })
  // Work the signal did not reach may still finish after the last line answered: what its
  // handler then returns (or throws) is dropped. Fastify would send it, find the reply sent
  // and log "Reply was already sent" with a stack for every such request, when the server is
  // already behind.
  app.addHook('onRoute', (route) => {
    const handler = route.handler
    route.handler = function (request, reply) {
      const result = handler.call(this, request, reply)
      return isThenable(result) ? result.then((payload) => reply.sent ? undefined : payload, (error: unknown) => { if (!reply.sent) throw error }) : result
    }
  })
}

// Private:

function isThenable (value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function'
}

function answerTimeout (reply: FastifyReply, deadline: Deadline): void {
  const error = deadline.timeoutError('http')
  deadline.abort(error)
  if (!reply.sent && !reply.raw.headersSent && !reply.raw.destroyed) reply.send(error)
}
