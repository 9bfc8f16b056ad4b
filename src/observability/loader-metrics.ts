/**
 * DataLoader metrics through the loaders' onBatch: jotter_dataloader_batches_total{loader} and
 * jotter_dataloader_batch_size{loader}. Loader names are fixed in the code (loaders/), so the
 * label is bounded.
 */
import { Counter, Histogram, type Registry } from 'prom-client'
import type { BatchObserver } from './observed-database.ts'

export function createLoaderMetrics (registry: Registry): BatchObserver {
  const batches = new Counter({
    name: 'jotter_dataloader_batches_total',
    help: 'Batches dispatched by each DataLoader (each is one batched SQL statement or fewer).',
    labelNames: ['loader'] as const,
    registers: [registry]
  })
  const batchSize = new Histogram({
    name: 'jotter_dataloader_batch_size',
    help: 'Keys per DataLoader batch.',
    labelNames: ['loader'] as const,
    buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
    registers: [registry]
  })
  return function onBatch (loader, size) {
    batches.inc({ loader })
    batchSize.observe({ loader }, size)
  }
}
