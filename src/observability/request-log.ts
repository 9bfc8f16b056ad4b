/**
 * One JSON log line per request, written when the response is done (Fastify's own
 * "incoming request"/"request completed" pair is switched off in app.ts):
 *   reqId, method, route, path (no query string: GET /graphql carries variables there),
 *   statusCode, durationMs, operations [{type, name, documentHash of a persisted document}], cache (hit/miss, when the response cache
 *   said), sqlStatements, viewerId.
 * Never tokens, passwords or emails: only the fields above are written, and the logger's
 * redaction (logger.ts) is the second line of defence.
 * The request id is echoed in the `x-request-id` response header.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { routeLabel } from './http-metrics.ts'
import { REQUEST_ID_HEADER } from './request-id.ts'

export function registerRequestLog (app: FastifyInstance): void {
  // Decided once (the level is fixed by LOG_LEVEL): at warn, a request builds no log object.
  const writesInfo = (app.log as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled?.('info') ?? true
  // Callback-style hooks: no promise or microtask per request.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header(REQUEST_ID_HEADER, request.id)
    done()
  })
  // Through the root logger with the request id as a field: the same line a request child
  // would write, without making one per request (see lazy-request-logger.ts).
  app.addHook('onResponse', (request, reply, done) => {
    if (reply.statusCode >= 500) app.log.error(requestLogLine(request, reply), 'request completed')
    else if (writesInfo) app.log.info(requestLogLine(request, reply), 'request completed')
    done()
  })
}

// Private:

function requestLogLine (request: FastifyRequest, reply: FastifyReply): Record<string, unknown> {
  const context = request.jotter
  return {
    reqId: request.id,
    method: request.method,
    route: routeLabel(request),
    path: request.url.split('?', 1)[0],
    statusCode: reply.statusCode,
    durationMs: Math.round(reply.elapsedTime * 100) / 100,
    operations: request.graphqlOperations ?? undefined,
    // Set by the response cache ('hit', 'miss', ...); read loosely so that its declaration stays its own.
    cache: (request as { cacheStatus?: unknown }).cacheStatus ?? undefined,
    // A GraphQL request answered from the cache has a viewer but no context: it ran no SQL.
    sqlStatements: context?.sqlCounter.statements ?? (request.viewer ? 0 : undefined),
    viewerId: request.viewer?.id ?? undefined
  }
}
