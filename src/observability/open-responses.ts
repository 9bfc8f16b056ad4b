/**
 * The responses still open, and what must happen when one is over, whether it was sent or its
 * client went away: the raw response's 'close' fires once either way (Fastify's onResponse only
 * for a sent one). The in-flight gauge reads `count`; the deadline aborts the work of a client
 * that left (onClose).
 *
 * One 'close' listener per response runs every onClose: with a listener each, Node keeps an
 * array of listeners per response and copies it on every emit.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

export type ResponseClosed = (request: FastifyRequest, reply: FastifyReply) => void

export interface OpenResponses {
  /** Responses whose request passed this hook and that have not closed yet. */
  readonly count: number
  /** Runs `closed` for every response that closes from now on, in the order registered. */
  onClose (closed: ResponseClosed): void
}

/** Call where the in-flight count should start: requests refused by earlier onRequest hooks are not counted. */
export function registerOpenResponses (app: FastifyInstance): OpenResponses {
  const listeners: ResponseClosed[] = []
  let count = 0
  // Callback style: no promise or microtask per request. `on`, not `once`: 'close' fires once
  // per response, and once's wrapper is an allocation per request.
  app.addHook('onRequest', (request, reply, done) => {
    count++
    reply.raw.on('close', () => {
      count--
      for (let i = 0; i < listeners.length; i++) listeners[i](request, reply)
    })
    done()
  })
  return {
    get count () { return count },
    onClose (closed) { listeners.push(closed) }
  }
}
