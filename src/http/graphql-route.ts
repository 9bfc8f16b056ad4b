/**
 * POST/GET /graphql (and /graphiql outside PRODUCTION) through Mercurius with graphql-jit.
 * Our preHandlers check the request, let the response cache answer, then build the request
 * context that Mercurius reuses.
 */
import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify'
import { NoSchemaIntrospectionCustomRule, type ParseOptions, type ValidationRule } from 'graphql'
import mercurius from 'mercurius'
import type { AppServices } from '../context.ts'
import type { GraphQLInstrumentation } from '../observability/graphql-instrumentation.ts'
import { resolvers } from '../graphql/resolvers.ts'
import { typeDefs } from '../graphql/schema.ts'
import { executionStatus, formatGraphQLErrors } from './graphql-errors.ts'
import { createRequestCheckHook, createRequestContextHook } from './request-context-hook.ts'
import { registerSqlCountExtension } from './sql-count-extension.ts'

export interface GraphQLRouteOptions {
  /** Extra validation rules (query limits). */
  validationRules?: ValidationRule[]
  /** graphql-js parse options (the token limit). */
  parseOptions?: ParseOptions
  /** preHandlers that run between the request check (viewer known) and the context (the response cache's lookup). */
  preHandlers?: preHandlerAsyncHookHandler[]
  /** Operation metrics (Mercurius hooks) and, when tracing, spans around the stages. */
  instrumentation?: GraphQLInstrumentation
}

export async function registerGraphQLRoute (app: FastifyInstance, services: AppServices, options: GraphQLRouteOptions = {}): Promise<void> {
  const { config } = services
  app.decorateRequest('viewer', null)
  app.decorateRequest('jotter', null)
  app.decorateRequest('viewerSqlCounter', null)
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
    graphql: { parseOptions: options.parseOptions },
    errorHandler: false,
    context: (request) => request.jotter as never,
    errorFormatter: (execution, context) => {
      const log = (context as unknown as { reply?: { log: FastifyInstance['log'] } }).reply?.log ?? app.log
      const errors = formatGraphQLErrors(execution.errors ?? [], log)
      // Root fields that all came back null (a timed-out nullable `note`) are "no data" too.
      const hasData = execution.data != null && Object.values(execution.data).some((value) => value != null)
      const statusCode = executionStatus(errors, hasData)
      if (statusCode === 503) (context as unknown as { reply?: { header (name: string, value: string): void } }).reply?.header('retry-after', '1')
      // No `data` entry when execution never began (variables that do not coerce): GraphQL spec.
      return { statusCode, response: { ...(execution.data === undefined ? {} : { data: execution.data }), errors } }
    },
    additionalRouteOptions: {
      preHandler: [
        createRequestCheckHook(services),
        ...(options.preHandlers ?? []).map((handler) => options.instrumentation?.wrapCachePreHandler(handler) ?? handler),
        createRequestContextHook(services),
        ...(options.instrumentation?.executionPreHandlers ?? [])
      ]
    }
  })
  options.instrumentation?.addMercuriusHooks(app)
  registerSqlCountExtension(app, config)
}
