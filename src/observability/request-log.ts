/**
 * One JSON log line per request, written when the response is done (Fastify's own
 * "incoming request"/"request completed" pair is switched off in app.ts):
 *   reqId, method, route, path (no query string: GET /graphql carries variables there),
 *   statusCode, durationMs, operations [{type, name}], cache (hit/miss, when the response cache
 *   said), sqlStatements, viewerId.
 * Never tokens, passwords or emails: only the fields above are written, and the logger's
 * redaction (logger.ts) is the second line of defence.
 * The request id is echoed in the `x-request-id` response header.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { routeLabel } from './http-metrics.ts'
import { REQUEST_ID_HEADER } from './request-id.ts'

export function registerRequestLog (app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id)
  })
  app.addHook('onResponse', async (request, reply) => {
    const line = requestLogLine(request, reply)
    if (reply.statusCode >= 500) request.log.error(line, 'request completed')
    else request.log.info(line, 'request completed')
  })
}

// Private:

function requestLogLine (request: FastifyRequest, reply: FastifyReply): Record<string, unknown> {
  const context = request.jotter
  return {
    method: request.method,
    route: routeLabel(request),
    path: request.url.split('?', 1)[0],
    statusCode: reply.statusCode,
    durationMs: Math.round(reply.elapsedTime * 100) / 100,
    operations: request.graphqlOperations ?? undefined,
    // Set by the response cache ('hit', 'miss', ...); read loosely so that its declaration stays its own.
    cache: (request as { cacheStatus?: unknown }).cacheStatus ?? undefined,
    sqlStatements: context?.sqlCounter.statements,
    viewerId: context?.viewer.id ?? undefined
  }
}
