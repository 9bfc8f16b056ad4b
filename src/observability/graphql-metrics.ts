/**
 * GraphQL operation metrics through Mercurius hooks:
 *   jotter_graphql_operation_duration_seconds{operation_type,operation_name}
 *   jotter_graphql_operations_total{operation_type,operation_name,outcome}
 * The duration runs from preParsing to onResolution (parse, validate, execute); operations that
 * fail parsing or validation never reach onResolution and show in the HTTP metrics (4xx) only.
 * outcome: ok (no errors), partial (errors and data), error (errors, no data).
 * `operation_name` is bounded by METRICS_MAX_OPERATIONS through the shared OperationLabeler.
 *
 * The operation found here is also put on the request (`request.graphqlOperations`) for the
 * request log line and the trace.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { getOperationAST, type DocumentNode } from 'graphql'
import { Counter, Histogram, type Registry } from 'prom-client'
import { PERSISTED_DOCUMENT, persistedDocumentLabel, type OperationLabeler, type PersistedDocumentName } from './operation-label.ts'

export interface GraphQLOperation {
  type: string
  /** The name as sent (not bounded): for logs and traces, never for metric labels. */
  name: string | null
  /** A persisted document's SHA-256 (hex), when the request ran one. */
  documentHash?: string
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The operations this request executed (more than one only for batched queries). */
    graphqlOperations: GraphQLOperation[] | null
  }
}

export const GRAPHQL_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5, 5, 10, 30]

/** Adds the hooks to a Mercurius app (after `app.register(mercurius)`). */
export function registerGraphQLMetrics (app: FastifyInstance, { registry, labeler }: { registry: Registry, labeler: OperationLabeler }): void {
  const duration = new Histogram({
    name: 'jotter_graphql_operation_duration_seconds',
    help: 'GraphQL operation duration (parse, validate, execute) by operation type and bounded operation name.',
    labelNames: ['operation_type', 'operation_name'] as const,
    buckets: GRAPHQL_DURATION_BUCKETS,
    registers: [registry]
  })
  const operations = new Counter({
    name: 'jotter_graphql_operations_total',
    help: 'GraphQL operations executed by type, bounded name and outcome (ok, partial, error).',
    labelNames: ['operation_type', 'operation_name', 'outcome'] as const,
    registers: [registry]
  })
  // Per operation context (batched operations each get their own), gone with the request.
  const started = new WeakMap<object, number>()
  const found = new WeakMap<object, { operation_type: string, operation_name: string }>()

  app.graphql.addHook('preParsing', async (_schema, _source, context) => {
    started.set(context, performance.now())
  })
  app.graphql.addHook('preExecution', async (_schema, document, context) => {
    const request = context.reply.request
    const requested = requestedOperation(request, (context as { operationId?: number }).operationId)
    const operation = operationOf(document, requestedOperationName(requested))
    const persisted = requested?.[PERSISTED_DOCUMENT] as PersistedDocumentName | undefined
    let labelName = operation.name
    if (persisted !== undefined) {
      operation.documentHash = persisted.hash
      labelName = persisted.name ?? operation.name ?? persistedDocumentLabel(persisted.hash)
    }
    found.set(context, { operation_type: operation.type, operation_name: labeler.label(labelName) })
    if (request.graphqlOperations) request.graphqlOperations.push(operation)
    else request.graphqlOperations = [operation]
  })
  app.graphql.addHook('onResolution', async (execution, context) => {
    const labels = found.get(context)
    const start = started.get(context)
    if (!labels || start === undefined) return
    const hasErrors = (execution.errors?.length ?? 0) > 0
    const hasData = execution.data !== null && execution.data !== undefined
    duration.observe(labels, (performance.now() - start) / 1000)
    operations.inc({ ...labels, outcome: !hasErrors ? 'ok' : hasData ? 'partial' : 'error' })
  })
}

// Private:

type RequestedOperation = Record<string | symbol, unknown> | null | undefined

function requestedOperation (request: FastifyRequest, operationId: number | undefined): RequestedOperation {
  const source = request.method === 'GET' ? request.query : request.body
  return (Array.isArray(source) ? source[operationId ?? 0] : source) as RequestedOperation
}

function requestedOperationName (operation: RequestedOperation): string | undefined {
  const name = operation?.operationName
  return typeof name === 'string' && name !== '' ? name : undefined
}

function operationOf (document: DocumentNode, operationName: string | undefined): GraphQLOperation {
  const definition = getOperationAST(document, operationName)
  if (!definition) return { type: 'unknown', name: operationName ?? null }
  return { type: definition.operation, name: definition.name?.value ?? null }
}
