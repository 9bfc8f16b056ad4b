/**
 * Gives every HTTP request its deadline (HTTP_TIMEOUT_MS) at onRequest, aborted early when the
 * client disconnects, and disposed when the response is sent.
 */
import type { FastifyInstance } from 'fastify'
import { createDeadline, type Deadline } from './deadline.ts'

declare module 'fastify' {
  interface FastifyRequest {
    deadline: Deadline
  }
}

export function registerRequestDeadline (app: FastifyInstance, httpTimeoutMs: number): void {
  app.decorateRequest('deadline', null as unknown as Deadline)
  app.addHook('onRequest', async (request, reply) => {
    const controller = new AbortController()
    request.deadline = createDeadline(httpTimeoutMs, controller.signal)
    // A client that goes away before the answer is written aborts the work done for it.
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) controller.abort(new Error('client disconnected'))
    })
  })
  app.addHook('onResponse', async (request) => {
    request.deadline.dispose()
  })
}
