/**
 * What bench:scaling measures at each count: one Jotter with WORKERS=n (node:cluster on one
 * port), or, with --through-haproxy, the scale-out topology with n instances behind HAProxy,
 * PgBouncer in front of the same database and a Redis of its own.
 */
import { BENCH_JWT_SECRET, startJotterProcess } from './bench-server.ts'
import { startScaleOut } from '../scripts/scale-out/topology.ts'

export interface ScalingTarget {
  url: string
  /** Prometheus endpoint for the server CPU column; null when no single one speaks for all. */
  metricsUrl: string | null
  stop (): Promise<void>
}

export type ScalingMode = 'workers' | 'instances'

export async function startScalingTarget (mode: ScalingMode, count: number, databaseUrl: string): Promise<ScalingTarget> {
  if (mode === 'workers') {
    const server = await startJotterProcess({ databaseUrl, workers: count })
    return { url: server.url, metricsUrl: server.metricsUrl, stop: async () => { await server.stop() } }
  }
  const topology = await startScaleOut({
    instances: count,
    port: 0,
    databaseUrl,
    // The bench's fixed secret: tokens collected on the first topology stay valid on the next.
    env: { ...process.env, JWT_SECRET: BENCH_JWT_SECRET, LOG_LEVEL: 'warn', SEED_DEMO_DATA: 'false', WORKERS: '1' },
    log: (line) => { if (!/^(pgbouncer|redis|postgresql): /.test(line)) process.stderr.write(`scale-out: ${line}\n`) }
  })
  // /metrics through HAProxy would answer for one instance at a time.
  return { url: topology.graphqlUrl, metricsUrl: null, stop: () => topology.stop() }
}
