/**
 * The process's Prometheus registry (prom-client). Every part of Jotter registers its metrics
 * here, through the registry it is handed, never the global one: tests build many apps.
 */
import { collectDefaultMetrics, Registry } from 'prom-client'

/**
 * Buckets (seconds) of prom-client's own nodejs_gc_duration_seconds{kind}, reused rather than
 * duplicated: its default edges (1 ms, 10 ms, 100 ms, 1 s) cannot tell a 3 ms scavenge from a
 * 9 ms one, and young-generation pauses of 2-30 ms are what sets the latency tail on one core.
 */
export const GC_PAUSE_BUCKETS = [0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5]

export function createMetricsRegistry (): Registry {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: '', gcDurationBuckets: GC_PAUSE_BUCKETS })
  return registry
}
