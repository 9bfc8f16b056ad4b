/**
 * What every per-request loader shares: validated options, the batch observer, and the
 * request's dependencies (LoaderDeps).
 * Validated once at start (createLoaderOptions); each request's loaders reuse the frozen result.
 */
import DataLoader from 'dataloader'
import type { QueryScope } from '../db/gateway.ts'
import type { Repositories } from '../db/repositories.ts'
import type { BatchObserver } from '../observability/observed-database.ts'
import type { RowCache } from '../rows/row-cache.ts'
import type { RowSources } from '../rows/row-sources.ts'
import type { Viewer } from '../viewer.ts'

export interface LoaderDeps {
  repositories: Repositories
  viewer: Viewer
  scope: QueryScope
  /** Rows shared between requests (disabledRowCache when off: every batch reads SQL). */
  rowCache: RowCache
  /** What the row cache's misses are read with (made once per process). */
  rowSources: RowSources
}

export interface LoaderOptions {
  /** Keys per batch; a larger batch splits into ceil(n / maxBatchSize) statements. */
  readonly maxBatchSize: number
  /** Called once per batch dispatched: metrics count batches and their sizes here. */
  readonly onBatch: BatchObserver
}

export function createLoaderOptions ({ maxBatchSize, onBatch = () => {} }: { maxBatchSize: number, onBatch?: LoaderOptions['onBatch'] }): LoaderOptions {
  if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1) {
    throw new Error(`maxBatchSize must be a positive integer: ${maxBatchSize}`)
  }
  return Object.freeze({ maxBatchSize, onBatch })
}

/**
 * A DataLoader with our defaults: batching on (same tick), per-request dedup cache on,
 * batches bounded by maxBatchSize. DataLoader itself does not cache a batch that failed:
 * its keys are rejected, and a later load of them tries again.
 */
export function createBatchLoader<K, V, C = K> (
  name: string,
  options: LoaderOptions,
  batch: (keys: readonly K[]) => Promise<ArrayLike<V | Error>>,
  cacheKeyFn?: (key: K) => C
): DataLoader<K, V, C> {
  return new DataLoader<K, V, C>(async (keys) => {
    options.onBatch(name, keys.length)
    return batch(keys)
  }, { maxBatchSize: options.maxBatchSize, cache: true, cacheKeyFn, name })
}

export function windowKey (key: { parentId: string, first: number, after: string | null }): string {
  return `${key.parentId}:${key.first}:${key.after ?? ''}`
}
