/**
 * Observability in one call from buildApp: HTTP, SQL, pool and heap-allocation metrics, the request log line,
 * tracing (when configured), and what the loaders and the GraphQL route need (onBatch, the
 * GraphQL instrumentation). Also hands out the shared operation-name labeler so every family
 * with an operation_name label (GraphQL, response cache) is bounded the same way.
 */
import type { SpanExporter } from '@opentelemetry/sdk-trace-base'
import type { FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'
import type { Config } from '../config.ts'
import type { BatchObserver, ObservedDatabase } from './observed-database.ts'
import type { OpenResponses } from './open-responses.ts'
import { createGraphQLInstrumentation, type GraphQLInstrumentation } from './graphql-instrumentation.ts'
import { registerHeapAllocationMetrics } from './heap-allocation-metrics.ts'
import { registerHttpMetrics } from './http-metrics.ts'
import { createLoaderMetrics } from './loader-metrics.ts'
import { createOperationLabeler, type OperationLabeler } from './operation-label.ts'
import { registerRequestLog } from './request-log.ts'
import { registerSqlMetrics } from './sql-metrics.ts'
import { registerTracing } from './tracing.ts'

export interface Observability {
  readonly operationLabeler: OperationLabeler
  readonly onBatch: BatchObserver
  readonly graphql: GraphQLInstrumentation
}

export interface ObservabilityOptions {
  config: Pick<Config, 'metricsMaxOperations' | 'otelEndpoint'>
  registry: Registry
  db: ObservedDatabase
  /** Tests: export spans here (tracing is then on even without OTEL_EXPORTER_OTLP_ENDPOINT). */
  spanExporter?: SpanExporter
  /** The in-flight gauge counts these. */
  openResponses: OpenResponses
}

/** Call before any route is registered: the hooks must cover every route. */
export function registerObservability (app: FastifyInstance, { config, registry, db, spanExporter, openResponses }: ObservabilityOptions): Observability {
  app.decorateRequest('graphqlOperations', null)
  const operationLabeler = createOperationLabeler(config.metricsMaxOperations)
  registerHttpMetrics(app, registry, openResponses)
  const heapAllocation = registerHeapAllocationMetrics(registry)
  app.addHook('onClose', async () => heapAllocation.stop())
  registerSqlMetrics(app, { registry, db })
  registerRequestLog(app)
  const tracing = registerTracing(app, { endpoint: config.otelEndpoint, db, exporter: spanExporter })
  return {
    operationLabeler,
    onBatch: createLoaderMetrics(registry),
    graphql: createGraphQLInstrumentation({ registry, labeler: operationLabeler, tracing })
  }
}
