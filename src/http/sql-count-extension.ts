/**
 * EXPOSE_SQL_COUNT=true: every GraphQL response carries `extensions.sqlStatements`, the number
 * of SQL statements the request ran (ctx.sqlCounter, counted by the gateway). The N+1 guard
 * test and `npm run bench:loaders` read it. config.ts refuses it together with PRODUCTION.
 *
 * Decided once at setup: when off, no hook is registered at all, so a request pays nothing.
 */
import type { FastifyInstance } from 'fastify'
import type { Config } from '../config.ts'
import type { RequestContext } from '../graphql/context.ts'

export function registerSqlCountExtension (app: FastifyInstance, config: Pick<Config, 'exposeSqlCount'>): void {
  if (!config.exposeSqlCount) return
  // onResolution runs after execution and after the error formatter, on the very object
  // Mercurius sends, so the count is final and error responses carry it too.
  app.graphql.addHook('onResolution', async (execution, context) => {
    const { sqlCounter } = context as unknown as RequestContext
    execution.extensions = { ...execution.extensions, sqlStatements: sqlCounter.statements }
  })
}
