/**
 * The process's Prometheus registry (prom-client). Every part of Jotter registers its metrics
 * here, through the registry it is handed, never the global one: tests build many apps.
 */
import { collectDefaultMetrics, Registry } from 'prom-client'

export function createMetricsRegistry (): Registry {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: '' })
  return registry
}
