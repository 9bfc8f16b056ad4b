/**
 * buildApp(config): the whole server, plugins registered in request order. Tests import this
 * and talk to it through `app.inject` or real HTTP.
 */
import type { SpanExporter } from '@opentelemetry/sdk-trace-base'
import Fastify, { LogController, type FastifyInstance } from 'fastify'
import type { DestinationStream } from 'pino'
import { createPasswordChecker, hashPassword } from './auth/passwords.ts'
import { resolveJwtSecret } from './auth/secret.ts'
import { createTokenService } from './auth/tokens.ts'
import { prepareResponseCache } from './responses/register-response-cache.ts'
import { createCacheCoherence } from './changes/cache-coherence.ts'
import { createRowCache, disabledRowCache, REFRESH_MAX_BATCH } from './rows/row-cache.ts'
import { createViewerFromRow } from './auth/viewer-from-row.ts'
import type { Config } from './config.ts'
import type { AppServices } from './graphql/context.ts'
import { apiError, errorBody } from './errors.ts'
import { openDatabase, type OpenedDatabase } from './db/connect.ts'
import { seedDemoDataIfEmpty } from './db/demo-data.ts'
import { databaseIdentity } from './db/deployment-identity.ts'
import { createRepositories } from './db/repositories.ts'
import { registerRequestDeadline } from './http/request-deadline.ts'
import { createRequestErrorHandler } from './http/graphql-errors.ts'
import { registerGraphiQLRoutes } from './http/graphiql/graphiql-routes.ts'
import { graphqlValidationRules, registerGraphQLRoute } from './http/graphql-route.ts'
import { registerHealthRoutes } from './http/health.ts'
import { registerCsrfGuard } from './http/limits/csrf-guard.ts'
import { createQueryLimits } from './http/limits/query-limits.ts'
import { registerLoadShedding, registerStartupGate } from './http/load-shedding.ts'
import { registerOpenResponses } from './observability/open-responses.ts'
import { createPersistedQueries } from './http/persisted-queries.ts'
import { registerRateLimits } from './http/rate-limits.ts'
import { createLoaderOptions } from './loaders/loader-options.ts'
import { createRowSources } from './rows/row-sources.ts'
import { lazyChildLoggerFactory } from './observability/lazy-request-logger.ts'
import { createLogger } from './observability/logger.ts'
import { metricsSource } from './observability/cluster-metrics.ts'
import { createMetricsRegistry } from './observability/metrics.ts'
import { registerObservability } from './observability/observability.ts'
import { requestIdOf } from './observability/request-id.ts'

export interface BuildOptions {
  /** An already opened database (tests share one per file); otherwise one is opened here. */
  database?: OpenedDatabase
  /** Where the JSON log lines go (tests capture them); default stdout. */
  logDestination?: DestinationStream
  /** Tests: spans go here, and tracing is on without OTEL_EXPORTER_OTLP_ENDPOINT. */
  spanExporter?: SpanExporter
}

export async function buildApp (config: Readonly<Config>, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: createLogger(config, options.logDestination) as FastifyInstance['log'],
    bodyLimit: config.bodyLimitBytes,
    // One line per request is written by observability/request-log.ts instead of Fastify's pair.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: requestIdOf,
    childLoggerFactory: lazyChildLoggerFactory,
    return503OnClosing: true,
    // The client address the rate limits count by: X-Forwarded-For only through trusted hops.
    trustProxy: config.trustProxy > 0 ? (_address: string, hop: number) => hop < config.trustProxy : false,
    routerOptions: { ignoreTrailingSlash: true }
  })
  const database = options.database ?? await openDatabase(config, { log: (message) => app.log.info(message) })
  if (!options.database) app.addHook('onClose', () => database.close())

  // An external database may still be coming up: the app listens and answers 503 meanwhile.
  const databaseReady = (database.ready ?? Promise.resolve()).then(async () => {
    if (config.seedDemoData && await seedDemoDataIfEmpty(database.db.pool, hashPassword)) {
      // The logins are in the README; a log line never carries a password.
      app.log.info('seeded demo data; sign in with one of the demo logins listed in the README')
    }
  })
  if (!database.ready) await databaseReady

  // Registered before every route: the request limit is a hook the plugin adds to each route.
  const loginThrottle = await registerRateLimits(app, config)
  const metrics = createMetricsRegistry()
  // Before observability's hooks: where the in-flight count starts.
  const openResponses = registerOpenResponses(app)
  const observability = registerObservability(app, { config, registry: metrics, db: database.db, spanExporter: options.spanExporter, openResponses })
  // Every cache of this process learns of changes from one bus fed by PostgreSQL; it connects
  // in the background (nothing at build time waits for the database) and caches are bypassed
  // until it listens.
  const coherence = config.cacheEnabled
    ? createCacheCoherence(config, { listenUrl: config.databaseListenUrl ?? database.url, log: app.log, registry: metrics })
    : null
  if (coherence !== null) app.addHook('onClose', () => coherence.bus.close())
  const repositories = createRepositories(database.db)
  const rowCache = coherence === null
    ? disabledRowCache
    : createRowCache({ maxBytes: config.rowCacheMaxBytes, ttlMs: config.rowCacheTtlMs, bus: coherence.bus, tracker: coherence.tracker, registry: metrics, refreshBudgetMs: config.dbTimeoutMs, refreshMaxBatch: Math.min(REFRESH_MAX_BATCH, config.loaderMaxBatchSize), log: app.log })
  app.addHook('onClose', async () => rowCache.close())
  const rowSources = createRowSources(repositories)
  const services: AppServices = {
    config,
    db: database.db,
    repositories,
    tokens: createTokenService({ secret: resolveJwtSecret(config), ttlSeconds: config.tokenTtlSeconds, verifiedTtlMs: config.rowCacheTtlMs }),
    passwords: await createPasswordChecker(),
    loginThrottle,
    loaderOptions: createLoaderOptions({ maxBatchSize: config.loaderMaxBatchSize, onBatch: observability.onBatch }),
    rowCache,
    rowSources,
    coherence,
    viewerFromRow: createViewerFromRow({ rowSources, rowCache })
  }

  const queryLimits = createQueryLimits(config)
  // Unset, DEPLOYMENT_ID is the database's identity: only asked when Redis is used, once the database answers.
  const deploymentId = config.deploymentId ?? (config.redisUrl === undefined ? '' : databaseReady.then(() => databaseIdentity(database.db.sql)))
  // Before anything listens: a trusted-documents manifest that does not validate stops the start.
  const persistedQueries = await createPersistedQueries({ config, deploymentId, validationRules: graphqlValidationRules(config, queryLimits.validationRules), registry: metrics, log: app.log })
  app.addHook('onClose', () => persistedQueries.close())
  app.setErrorHandler(createRequestErrorHandler(queryLimits))
  app.setNotFoundHandler((request, reply) => {
    const noRoute = apiError('ROUTE_NOT_FOUND', { method: request.method, path: request.url.split('?')[0] })
    return reply.code(noRoute.statusCode).send(errorBody(noRoute))
  })

  registerStartupGate(app, databaseReady)
  await registerLoadShedding(app, config, { metrics })
  registerRequestDeadline(app, { httpTimeoutMs: config.httpTimeoutMs, openResponses, metrics })
  registerCsrfGuard(app, '/graphql')
  registerHealthRoutes(app, { db: database.db, metrics: metricsSource(metrics, config) })
  const responseCache = await prepareResponseCache(app, services, { registry: metrics, deploymentId, labelOperation: (name) => observability.operationLabeler.label(name) })
  const queryLimitOptions = { validationRules: queryLimits.validationRules, parseOptions: queryLimits.parseOptions, refineErrors: queryLimits.refineErrors }
  await registerGraphQLRoute(app, services, { instrumentation: observability.graphql, preHandlers: responseCache.preHandlers, persistedQueries, ...queryLimitOptions })
  if (!config.production) registerGraphiQLRoutes(app)
  queryLimits.registerCostLimit(app)
  responseCache.register(app)
  return app
}
