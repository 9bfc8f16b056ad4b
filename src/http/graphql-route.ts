/**
 * POST/GET /graphql (and /graphiql outside PRODUCTION) through Mercurius with graphql-jit.
 * Our preHandler builds the request context before Mercurius runs; Mercurius reuses it.
 */
import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify'
import { NoSchemaIntrospectionCustomRule, type ValidationRule } from 'graphql'
import mercurius from 'mercurius'
import type { AppServices } from '../context.ts'
import { resolvers } from '../graphql/resolvers.ts'
import { typeDefs } from '../graphql/schema.ts'
import { executionStatus, formatGraphQLErrors } from './graphql-errors.ts'
import { createRequestContextHook } from './request-context-hook.ts'

export interface GraphQLRouteOptions {
  /** Extra validation rules (query limits). */
  validationRules?: ValidationRule[]
  /** preHandlers that run after the context is built (the response cache). */
  preHandlers?: preHandlerAsyncHookHandler[]
}

export async function registerGraphQLRoute (app: FastifyInstance, services: AppServices, options: GraphQLRouteOptions = {}): Promise<void> {
  const { config } = services
  app.decorateRequest('jotter', null)
  app.decorateRequest('responseMediaType', null)
  const validationRules = [
    ...(config.production ? [NoSchemaIntrospectionCustomRule] : []),
    ...(options.validationRules ?? [])
  ]
  await app.register(mercurius, {
    schema: typeDefs,
    resolvers: resolvers as never,
    path: '/graphql',
    graphiql: !config.production,
    // Compile a query with graphql-jit from its second use: one-off queries skip the cost.
    jit: 1,
    allowBatchedQueries: config.batchedQueries,
    validationRules,
    errorHandler: false,
    context: (request) => request.jotter as never,
    errorFormatter: (execution, context) => {
      const log = (context as unknown as { reply?: { log: FastifyInstance['log'] } }).reply?.log ?? app.log
      const errors = formatGraphQLErrors(execution.errors ?? [], log)
      const hasData = execution.data !== null && execution.data !== undefined
      return { statusCode: executionStatus(errors, hasData), response: { data: execution.data ?? null, errors } }
    },
    additionalRouteOptions: {
      preHandler: [createRequestContextHook(services), ...(options.preHandlers ?? [])]
    }
  })
}
