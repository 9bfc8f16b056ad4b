/**
 * Loader batches through the row cache (src/cache/row-cache.ts): keys found there cost no
 * SQL; the rest are read with ONE statement and kept for every later request. With the row
 * cache off every key is "missing", so the batch is exactly the one statement it was.
 */
import type { RowCache } from '../cache/row-cache.ts'

export interface FetchedRow<V> {
  value: V
  /** The cache tags whose invalidation must drop this row. */
  tags: string[]
}

export async function throughRowCache<K, V> (
  rowCache: RowCache,
  keys: readonly K[],
  cacheKeyOf: (key: K) => string,
  fetchMissing: (missing: K[]) => Promise<Map<K, FetchedRow<V>>>
): Promise<Array<V | undefined>> {
  const ticket = rowCache.ticket()
  const values: Array<V | undefined> = keys.map((key) => rowCache.get<V>(cacheKeyOf(key)))
  const missing = keys.filter((_, index) => values[index] === undefined)
  if (missing.length === 0) return values
  const fetched = await fetchMissing(missing)
  for (const [key, row] of fetched) rowCache.set(cacheKeyOf(key), row.value, row.tags, ticket)
  return keys.map((key, index) => values[index] ?? fetched.get(key)?.value)
}

/** Whether note id `id` comes after `after` in id order (ids are bigint text, no leading zeros). */
export function isAfter (id: string, after: string | null): boolean {
  if (after === null) return true
  return id.length === after.length ? id > after : id.length > after.length
}
