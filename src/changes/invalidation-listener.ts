/**
 * What every subscriber of the invalidation bus implements: the race tracker, the response
 * cache and the row cache. The bus is their only way to learn that data changed.
 */

/**
 * Why everything is dropped: `changed` (data changed in ways no tag names: an unknown mutation,
 * a statement too large to list) or `bus-lost` (notifications may have been missed).
 */
export type ClearReason = 'changed' | 'bus-lost'

export interface InvalidationListener {
  /** Drops what carries any of `tags`. */
  invalidate (tags: readonly string[]): void
  /** Drops everything. */
  clear (reason: ClearReason): void
}
