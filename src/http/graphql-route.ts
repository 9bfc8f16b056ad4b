/**
 * POST/GET /graphql through Mercurius with graphql-jit (GraphiQL is served by graphiql/graphiql-routes.ts).
 * Our preHandlers check the request, let the response cache answer, then build the request
 * context that Mercurius reuses.
 */
import type { FastifyInstance, FastifyReply, preHandlerHookHandler } from 'fastify'
import { NoSchemaIntrospectionCustomRule, type GraphQLFormattedError, type ParseOptions, type ValidationRule } from 'graphql'
import mercurius from 'mercurius'
import type { AppServices } from '../graphql/context.ts'
import { RETRY_AFTER_SECONDS } from '../errors.ts'
import type { GraphQLInstrumentation } from '../observability/graphql-instrumentation.ts'
import { resolvers } from '../graphql/resolvers.ts'
import { typeDefs } from '../graphql/schema.ts'
import { executionStatus, formatGraphQLErrors, legacyStatus, retryAfterOf } from './graphql-errors.ts'
import type { PersistedQueries } from './persisted-queries.ts'
import { createRequestCheckHook, createRequestContextHook } from './request-context-hook.ts'
import { registerSqlCountExtension } from './sql-count-extension.ts'

export interface GraphQLRouteOptions {
  /** Extra validation rules (query limits). */
  validationRules?: ValidationRule[]
  /** graphql-js parse options (the token limit). */
  parseOptions?: ParseOptions
  /** preHandlers that run between the request check (viewer known) and the context (the response cache's lookup). */
  preHandlers?: preHandlerHookHandler[]
  /** Operation metrics (Mercurius hooks) and, when tracing, spans around the stages. */
  instrumentation?: GraphQLInstrumentation
  /** The query limits' rewrite of request errors (hidden limits and suggestions in PRODUCTION). */
  refineErrors?: (errors: GraphQLFormattedError[]) => GraphQLFormattedError[]
  /** APQ and trusted documents: a preHandler before every other, and Mercurius' provider. */
  persistedQueries?: PersistedQueries
}

/** Every rule Mercurius validates with besides graphql-js' own (trusted documents are checked with them too). */
export function graphqlValidationRules (config: { production: boolean }, extraRules: readonly ValidationRule[] = []): ValidationRule[] {
  return [...(config.production ? [NoSchemaIntrospectionCustomRule] : []), ...extraRules]
}

export async function registerGraphQLRoute (app: FastifyInstance, services: AppServices, options: GraphQLRouteOptions = {}): Promise<void> {
  const { config } = services
  app.decorateRequest('viewer', null)
  app.decorateRequest('jotter', null)
  app.decorateRequest('viewerSqlCounter', null)
  app.decorateRequest('responseMediaType', null)
  const refineErrors = options.refineErrors ?? ((errors: GraphQLFormattedError[]) => errors)
  const validationRules = graphqlValidationRules(config, options.validationRules)
  const { persistedQueries } = options
  await app.register(mercurius, {
    schema: typeDefs,
    resolvers: resolvers as never,
    path: '/graphql',
    // Mercurius' GraphiQL page loads its scripts from a CDN; ours serves them from node_modules.
    graphiql: false,
    // Compile a query with graphql-jit from its second use: one-off queries skip the cost.
    jit: 1,
    ...(persistedQueries === undefined ? {} : { cache: persistedQueries.documentCacheSize, persistedQueryProvider: persistedQueries.provider }),
    allowBatchedQueries: config.batchedQueries,
    validationRules,
    graphql: { parseOptions: options.parseOptions },
    errorHandler: false,
    context: (request) => request.jotter as never,
    // Also the formatter of each operation of a batch, including its request errors (which a
    // single operation sends through Fastify's error handler): hence the same refinement here.
    errorFormatter: (execution, context) => {
      const reply = (context as unknown as { reply?: FastifyReply }).reply
      const errors = refineErrors(formatGraphQLErrors(execution.errors ?? [], reply?.log ?? app.log))
      // Root fields that all came back null (a timed-out nullable `note`) are "no data" too.
      const hasData = execution.data != null && Object.values(execution.data).some((value) => value != null)
      const statusCode = legacyStatus(executionStatus(errors, hasData), errors, reply?.request.headers.accept)
      if (statusCode === 503) reply?.header('retry-after', String(RETRY_AFTER_SECONDS))
      const retryAfter = retryAfterOf(errors)
      if (retryAfter !== undefined) reply?.header('retry-after', String(retryAfter))
      // No `data` entry when execution never began (variables that do not coerce): GraphQL spec.
      return { statusCode, response: { ...(execution.data === undefined ? {} : { data: execution.data }), errors } }
    },
    additionalRouteOptions: {
      preHandler: [
        // First: it gives a hash its document, and refuses an untrusted one before anything parses it.
        ...(persistedQueries === undefined ? [] : [persistedQueries.preHandler as preHandlerHookHandler]),
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
