/**
 * SQL metrics from the gateway: jotter_sql_statement_duration_seconds{statement},
 * jotter_sql_statements_total{statement,outcome}, jotter_sql_statements_per_request and the
 * pool gauges jotter_db_pool_connections{state}.
 *
 * `statement` is the name the repository gives each statement ('notesByIds', 'createNote'):
 * a fixed set written in the code, so the label is bounded.
 *
 * The pool gauges come from node-postgres's pool itself, read at scrape time:
 *   max     — DB_POOL_MAX, the connections the pool may open;
 *   open    — connections checked out right now (busy with a statement or transaction);
 *   idle    — connections open and free for the next statement;
 *   waiting — callers queued for a connection (the pool is at max and none is idle).
 */
import type { FastifyInstance } from 'fastify'
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import { createScrapeTimeHistogram } from './scrape-time-histogram.ts'
import type { ObservedDatabase } from './observed-database.ts'

export function registerSqlMetrics (app: FastifyInstance, { registry, db }: { registry: Registry, db: ObservedDatabase }): void {
  const duration = new Histogram({
    name: 'jotter_sql_statement_duration_seconds',
    help: 'SQL statement duration through the gateway (queueing for a connection included), by statement name.',
    labelNames: ['statement'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [registry]
  })
  const statements = new Counter({
    name: 'jotter_sql_statements_total',
    help: 'SQL statements run through the gateway, by statement name and outcome (ok, error).',
    labelNames: ['statement', 'outcome'] as const,
    registers: [registry]
  })
  // Observed by every GraphQL request: no garbage per observation (scrape-time-histogram.ts).
  const perRequest = createScrapeTimeHistogram({
    name: 'jotter_sql_statements_per_request',
    help: 'SQL round trips per GraphQL request (BEGIN/COMMIT included; 0 for a response-cache hit).',
    labelNames: [],
    buckets: [0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 100],
    registers: [registry]
  }).series({})
  new Gauge({ // eslint-disable-line no-new -- registered in the registry, read by its collect
    name: 'jotter_db_pool_connections',
    help: 'PostgreSQL pool of this process by state: max (DB_POOL_MAX), open (checked out, busy), idle (open and free), waiting (queued for a connection).',
    labelNames: ['state'] as const,
    registers: [registry],
    collect () {
      const { pool } = db
      this.set({ state: 'max' }, db.poolMax)
      this.set({ state: 'open' }, pool.totalCount - pool.idleCount)
      this.set({ state: 'idle' }, pool.idleCount)
      this.set({ state: 'waiting' }, pool.waitingCount)
    }
  })

  const unobserve = db.observe(({ name, durationMs, ok }) => {
    duration.observe({ statement: name }, durationMs / 1000)
    statements.inc({ statement: name, outcome: ok ? 'ok' : 'error' })
  })
  app.addHook('onClose', async () => unobserve())

  app.addHook('onResponse', (request, _reply, done) => {
    // Only GraphQL requests have a viewer; health checks and /metrics are not "requests" here.
    // A cache hit has no context: it ran no SQL.
    if (request.viewer) perRequest.observe(request.jotter?.sqlCounter.statements ?? 0)
    done()
  })
}
