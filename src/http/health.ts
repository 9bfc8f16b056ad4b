/** Liveness (the process answers) and readiness (the database answers) probes, and /metrics. */
import type { FastifyInstance } from 'fastify'
import type { MetricsSource } from '../observability/cluster-metrics.ts'
import type { Database } from '../db/gateway.ts'

const READY_CHECK_TIMEOUT_MS = 1000

export function registerHealthRoutes (app: FastifyInstance, { db, metrics }: { db: Database, metrics: MetricsSource }): void {
  // The pid tells which worker answered when WORKERS > 1 (operators and the cluster tests).
  app.get('/health/live', async () => ({ status: 'ok', pid: process.pid }))

  app.get('/health/ready', async (request, reply) => {
    try {
      await withTimeout(db.sql`select 1`, READY_CHECK_TIMEOUT_MS)
      return { status: 'ok' }
    } catch (error) {
      request.log.warn({ err: error }, 'readiness check failed: database not answering')
      return reply.code(503).header('retry-after', '1').send({ status: 'unavailable', reason: 'database' })
    }
  })

  app.get('/metrics', async (_, reply) => {
    reply.header('content-type', metrics.contentType)
    return metrics.metrics()
  })
}

// Private:

function withTimeout<T> (work: PromiseLike<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    Promise.resolve(work),
    new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms) })
  ]).finally(() => clearTimeout(timer))
}
