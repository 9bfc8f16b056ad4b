/**
 * buildApp(config): the whole server, plugins registered in request order. Tests import this
 * and talk to it through `app.inject` or real HTTP.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import { createPasswordChecker } from './auth/passwords.ts'
import { resolveJwtSecret } from './auth/secret.ts'
import { createTokenService } from './auth/tokens.ts'
import type { Config } from './config.ts'
import type { AppServices } from './context.ts'
import { openDatabase, type OpenedDatabase } from './db/connect.ts'
import { demoLogins, seedDemoDataIfEmpty } from './db/demo-data.ts'
import { createRepositories } from './db/repositories.ts'
import { registerRequestDeadline } from './deadline/request-deadline.ts'
import { errorResponse } from './http/graphql-errors.ts'
import { registerGraphQLRoute } from './http/graphql-route.ts'
import { registerHealthRoutes } from './http/health.ts'
import { createLoaderOptions } from './loaders/loader-options.ts'
import { createLogger } from './observability/logger.ts'
import { createMetricsRegistry } from './observability/metrics.ts'

export interface BuildOptions {
  /** An already opened database (tests share one per file); otherwise one is opened here. */
  database?: OpenedDatabase
}

export async function buildApp (config: Readonly<Config>, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: createLogger(config) as FastifyInstance['log'],
    bodyLimit: config.bodyLimitBytes,
    disableRequestLogging: true,
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true }
  })
  const database = options.database ?? await openDatabase(config, { log: (message) => app.log.info(message) })
  if (!options.database) app.addHook('onClose', () => database.close())

  if (config.seedDemoData && await seedDemoDataIfEmpty(database.db.sql)) {
    app.log.info({ logins: demoLogins.map(({ email, password, role }) => ({ email, password, role })) },
      'seeded demo data; sign in with one of these logins')
  }

  const metrics = createMetricsRegistry()
  const services: AppServices = {
    config,
    db: database.db,
    repositories: createRepositories(database.db),
    tokens: createTokenService({ secret: resolveJwtSecret(config), ttlSeconds: config.tokenTtlSeconds }),
    passwords: await createPasswordChecker(),
    loaderOptions: createLoaderOptions({ maxBatchSize: config.loaderMaxBatchSize })
  }

  app.setErrorHandler((error, request, reply) => {
    const { statusCode, response } = errorResponse(error, request.log)
    if (request.responseMediaType) reply.header('content-type', request.responseMediaType)
    return reply.code(statusCode).send(response)
  })
  app.setNotFoundHandler((request, reply) => reply.code(404).send({
    errors: [{ message: `No route ${request.method} ${request.url.split('?')[0]}.`, extensions: { code: 'NOT_FOUND' } }]
  }))

  registerRequestDeadline(app, config.httpTimeoutMs)
  registerHealthRoutes(app, { db: database.db, metrics })
  await registerGraphQLRoute(app, services)
  return app
}
