/**
 * The rows of one batched statement handed back per key: a loader's batch and the row cache's
 * misses both read many keys in one statement and answer each key with its own rows.
 */

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
