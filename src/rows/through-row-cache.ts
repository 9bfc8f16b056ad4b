/**
 * Loader batches through the row cache (src/rows/row-cache.ts): keys found there cost no
 * SQL; the rest are read with ONE statement (the kind's row source) and kept for every later
 * request. With the row cache off every key is "missing", so the batch is one statement for
 * all its keys.
 */
import type { RowCache, RowSource } from './row-cache.ts'
import type { QueryScope } from '../db/gateway.ts'

export async function throughRowCache<V> (rowCache: RowCache, source: RowSource<V>, scope: QueryScope, ids: readonly string[]): Promise<Array<V | undefined>> {
  const ticket = rowCache.ticket()
  const values: Array<V | undefined> = ids.map((id) => rowCache.get<V>(source.keyOf(id)))
  const missing = ids.filter((_, index) => values[index] === undefined)
  if (missing.length === 0) return values
  const fetched = await source.read(scope, missing)
  for (const [id, row] of fetched) rowCache.set(source.keyOf(id), row.value, row.tags, ticket, { source, id })
  return ids.map((id, index) => values[index] ?? fetched.get(id)?.value)
}

/** Whether note id `id` comes after `after` in id order (ids are bigint text, no leading zeros). */
export function isAfter (id: string, after: string | null): boolean {
  if (after === null) return true
  return id.length === after.length ? id > after : id.length > after.length
}
