/**
 * What every per-request loader shares: validated options and the batch observer.
 * Validated once at start (createLoaderOptions); each request's loaders reuse the frozen result.
 */
import DataLoader from 'dataloader'

export interface LoaderOptions {
  /** Keys per batch; a larger batch splits into ceil(n / maxBatchSize) statements. */
  readonly maxBatchSize: number
  /** Called once per batch dispatched: metrics count batches and their sizes here. */
  readonly onBatch: (loader: string, size: number) => void
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

/** Groups rows by a key, answering in the order of `keys` (empty list where none). */
export function groupInKeyOrder<R> (keys: readonly string[], rows: readonly R[], keyOf: (row: R) => string): R[][] {
  const groups = new Map<string, R[]>()
  for (const row of rows) {
    const key = keyOf(row)
    const group = groups.get(key)
    if (group) group.push(row)
    else groups.set(key, [row])
  }
  return keys.map((key) => groups.get(key) ?? [])
}

/** Rows of a windowed batch (each carrying parentIndex) split back per key. */
export function splitByParentIndex<R extends { parentIndex: number }> (count: number, rows: readonly R[]): R[][] {
  const result: R[][] = Array.from({ length: count }, () => [])
  for (const row of rows) result[row.parentIndex].push(row)
  return result
}

export function windowKey (key: { parentId: string, first: number, after: string | null }): string {
  return `${key.parentId}:${key.first}:${key.after ?? ''}`
}
