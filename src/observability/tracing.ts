/**
 * OpenTelemetry traces, on only when OTEL_EXPORTER_OTLP_ENDPOINT is set (or a test hands in an
 * exporter). Off, `registerTracing` returns null and registers nothing: no hooks, no observer.
 *
 * Span tree of one request:
 *   "POST /graphql"            (server span: onRequest → onResponse)
 *     ├ "cache.lookup"         (the response cache's preHandlers)
 *     └ "graphql.execute"      (parse, validate, execute: last preHandler → onSend)
 *         └ "sql notesByIds"   (one per statement: name and text, never values)
 *
 * The execution span is made the active OpenTelemetry context (AsyncLocalStorage) for the
 * Mercurius handler, so SQL statements find their parent however deep in resolvers and
 * DataLoader batches they run. Our own glue; the SDK, context manager and exporter are
 * OpenTelemetry's.
 */
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span, type Tracer } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { BasicTracerProvider, BatchSpanProcessor, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base'
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction, preHandlerHookHandler } from 'fastify'
import type { ObservedDatabase, StatementEvent } from './observed-database.ts'
import { routeLabel } from './http-metrics.ts'

export interface Tracing {
  /** Runs a route preHandler in a child span of the request span. */
  wrapPreHandler (spanName: string, handler: preHandlerHookHandler): preHandlerHookHandler
  /** The GraphQL route's last preHandler: opens the execution span and runs the handler in it. */
  executionPreHandler (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void
}

export interface TracingOptions {
  endpoint: string | undefined
  db: ObservedDatabase
  /** Replaces the OTLP exporter (tests: an InMemorySpanExporter); spans are then exported one by one. */
  exporter?: SpanExporter
}

declare module 'fastify' {
  interface FastifyRequest {
    traceSpans: { request: Span, graphql?: Span } | null
  }
}

export function registerTracing (app: FastifyInstance, { endpoint, db, exporter }: TracingOptions): Tracing | null {
  if (endpoint === undefined && exporter === undefined) return null
  // One context manager per process; a second app in the same process reuses it.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'jotter' }),
    spanProcessors: [exporter
      ? new SimpleSpanProcessor(exporter)
      : new BatchSpanProcessor(new OTLPTraceExporter({ url: `${endpoint!.replace(/\/+$/, '')}/v1/traces` }))]
  })
  const tracer = provider.getTracer('jotter')

  app.decorateRequest('traceSpans', null)
  app.addHook('onRequest', async (request) => {
    request.traceSpans = {
      request: tracer.startSpan(`${request.method} ${routeLabel(request)}`, {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': request.method,
          'http.route': routeLabel(request),
          'url.path': request.url.split('?', 1)[0],
          'jotter.request_id': request.id
        }
      }, ROOT_CONTEXT)
    }
  })
  app.addHook('onSend', async (request, reply) => {
    const graphql = request.traceSpans?.graphql
    if (!graphql) return
    const operation = request.graphqlOperations?.[0]
    if (operation) {
      graphql.setAttribute('graphql.operation.type', operation.type)
      if (operation.name) graphql.setAttribute('graphql.operation.name', operation.name)
    }
    if (reply.statusCode >= 500) graphql.setStatus({ code: SpanStatusCode.ERROR })
    graphql.end()
  })
  app.addHook('onResponse', async (request, reply) => {
    const span = request.traceSpans?.request
    if (!span) return
    span.setAttribute('http.response.status_code', reply.statusCode)
    if (request.viewer) {
      span.setAttribute('jotter.sql_statements', request.jotter?.sqlCounter.statements ?? 0)
      if (request.viewer.id) span.setAttribute('enduser.id', request.viewer.id)
    }
    if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR })
    span.end()
  })

  const unobserve = db.observe((event) => recordStatement(tracer, event))
  app.addHook('onClose', async () => {
    unobserve()
    await provider.shutdown()
  })

  return {
    wrapPreHandler (spanName, handler) {
      return function tracedPreHandler (this: FastifyInstance, request, reply, done) {
        const span = tracer.startSpan(spanName, {}, parentContext(request))
        let open = true
        const end = (error?: Error): void => {
          if (!open) return
          open = false
          if (error) {
            span.recordException(error)
            span.setStatus({ code: SpanStatusCode.ERROR })
          }
          const cacheStatus = (request as { cacheStatus?: unknown }).cacheStatus
          if (typeof cacheStatus === 'string') span.setAttribute('jotter.cache.status', cacheStatus)
          span.end()
        }
        // A handler that answers the request itself (a cache hit) does not call done: its span
        // ends when the answer is sent, or at the latest when the response closes.
        reply.raw.once('close', () => end())
        try {
          context.with(trace.setSpan(context.active(), span), () => handler.call(this, request, reply, (error?: Error) => {
            end(error)
            done(error)
          }))
        } catch (error) {
          end(error as Error)
          throw error
        }
        if (reply.sent) end()
      }
    },
    executionPreHandler (request, _reply, done) {
      const spans = request.traceSpans
      if (!spans) return done()
      spans.graphql = tracer.startSpan('graphql.execute', {}, parentContext(request))
      // Everything the handler starts from here (resolvers, loaders, SQL) runs in this context.
      context.with(trace.setSpan(ROOT_CONTEXT, spans.graphql), done)
    }
  }
}

// Private:

function parentContext (request: FastifyRequest): Context {
  const span = request.traceSpans?.request
  return span ? trace.setSpan(ROOT_CONTEXT, span) : ROOT_CONTEXT
}

/** A finished statement becomes a span ending now; outside a traced request it is skipped. */
function recordStatement (tracer: Tracer, event: StatementEvent): void {
  const active = context.active()
  if (!trace.getSpan(active)) return
  const end = performance.timeOrigin + performance.now()
  const span = tracer.startSpan(`sql ${event.name}`, {
    kind: SpanKind.CLIENT,
    startTime: end - event.durationMs,
    attributes: {
      'db.system.name': 'postgresql',
      'db.operation.name': event.name,
      ...(event.text !== undefined ? { 'db.query.text': event.text.replace(/\s+/g, ' ').trim() } : {})
    }
  }, active)
  if (!event.ok) span.setStatus({ code: SpanStatusCode.ERROR })
  span.end(end)
}
