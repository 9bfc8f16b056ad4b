/**
 * What the GraphQL route takes from observability, in one small interface: Mercurius hooks for
 * the operation metrics, and (when tracing is on) spans around the response cache's
 * preHandlers and the execution. With tracing off the wrappers are the identity: no per-request cost.
 */
import type { FastifyInstance, preHandlerHookHandler } from 'fastify'
import type { Registry } from 'prom-client'
import { registerGraphQLMetrics } from './graphql-metrics.ts'
import type { OperationLabeler } from './operation-label.ts'
import type { Tracing } from './tracing.ts'

export interface GraphQLInstrumentation {
  /** Wraps a response-cache preHandler (a "cache.lookup" span when tracing). */
  wrapCachePreHandler (handler: preHandlerHookHandler): preHandlerHookHandler
  /** preHandlers to run last, right before Mercurius (the execution span when tracing). */
  readonly executionPreHandlers: preHandlerHookHandler[]
  /** Call once Mercurius is registered: adds the operation-metrics hooks. */
  addMercuriusHooks (app: FastifyInstance): void
}

export function createGraphQLInstrumentation ({ registry, labeler, tracing }: { registry: Registry, labeler: OperationLabeler, tracing: Tracing | null }): GraphQLInstrumentation {
  return {
    wrapCachePreHandler: tracing ? (handler) => tracing.wrapPreHandler('cache.lookup', handler) : (handler) => handler,
    executionPreHandlers: tracing ? [tracing.executionPreHandler as preHandlerHookHandler] : [],
    addMercuriusHooks (app) {
      registerGraphQLMetrics(app, { registry, labeler })
    }
  }
}
