/** Liveness (the process answers) and readiness (the database answers) probes, and /metrics. */
import type { FastifyInstance, FastifyReply } from 'fastify'
import type { MetricsSource } from '../observability/cluster-metrics.ts'
import type { Database } from '../db/gateway.ts'
import { errorBodyOf, RETRY_AFTER_SECONDS, type ErrorBody } from '../errors.ts'

const READY_CHECK_TIMEOUT_MS = 1000

/** Why /health/ready says no: the database has not answered yet since start, or stopped answering. */
export type NotReadyReason = 'starting' | 'database'

/** A 503 from /health/ready: `status` and `reason` for probes and people, `errors` as every error body. */
export interface NotReadyBody extends ErrorBody { status: 'unavailable', reason: NotReadyReason }

const notReadyBodies: Record<NotReadyReason, NotReadyBody> = {
  starting: { status: 'unavailable', reason: 'starting', ...errorBodyOf('NOT_READY_STARTING') },
  database: { status: 'unavailable', reason: 'database', ...errorBodyOf('NOT_READY_DATABASE') }
}

export function registerHealthRoutes (app: FastifyInstance, { db, metrics }: { db: Database, metrics: MetricsSource }): void {
  // The pid tells which worker answered when WORKERS > 1 (operators and the cluster tests):
  // a cluster is ready when every worker's pid has answered ready.
  app.get('/health/live', async () => ({ status: 'ok', pid: process.pid }))

  app.get('/health/ready', async (request, reply) => {
    try {
      await withTimeout(db.sql`select 1`, READY_CHECK_TIMEOUT_MS)
      return { status: 'ok', pid: process.pid }
    } catch (error) {
      request.log.warn({ err: error }, 'readiness check failed: database not answering')
      return sendNotReady(reply, 'database')
    }
  })

  app.get('/metrics', async (_, reply) => {
    reply.header('content-type', metrics.contentType)
    return metrics.metrics()
  })
}

/** Answers /health/ready with 503 + Retry-After (also used by the start-up gate). */
export function sendNotReady (reply: FastifyReply, reason: NotReadyReason): FastifyReply {
  return reply.code(503).header('retry-after', String(RETRY_AFTER_SECONDS)).send(notReadyBodies[reason])
}

// Private:

function withTimeout<T> (work: PromiseLike<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    Promise.resolve(work),
    new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms) })
  ]).finally(() => clearTimeout(timer))
}
