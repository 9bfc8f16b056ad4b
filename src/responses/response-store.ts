/**
 * The small interface both response tiers implement, the memory tier (memory-store.ts) and
 * the Redis tier (redis-store.ts), in the spirit of envelop's response-cache `cache.ts`.
 * A tier only keeps bytes for a while: whether an entry may be stored or served is decided
 * above it (response-cache.ts) by the race tracker, the same for every tier.
 */

export interface StoredResponse {
  /**
   * The exact response text a hit answers with. A string, not a Buffer: every Buffer of its
   * own is an ArrayBuffer, and V8 sweeps those one by one on the main thread in each major
   * GC's pause (single-threaded GC, the flags of package.json's `start`): a large share of the
   * pause with a full cache (docs/performance.md, "Response bodies stored as strings"). A
   * string has no such per-object cost, and the payload already is one.
   */
  readonly body: string
  /** Strong ETag of `body` (quoted). */
  readonly etag: string
  /** Entity and list tags of everything in the response (see cache-tags.ts). */
  readonly tags: readonly string[]
  /** Wall clock (epoch ms) when the data it holds started to be read: its ticket's time. */
  readonly stampMs: number
  /**
   * Set on a marker, not an answer: the questions about the viewer the answers under this key
   * asked (sorted). Each viewer's answer is under the key its answers make (cache-key.ts).
   */
  readonly vary?: readonly string[]
}

export interface Found {
  readonly response: StoredResponse
  /** What is left of its TTL (ms). */
  readonly remainingTtlMs: number
}

export type MaybePromise<T> = T | Promise<T>

export interface ResponseStore {
  /** The entry under `key`, if any and not expired. */
  lookup (key: string): MaybePromise<Found | undefined>
  /** Keeps `response` under `key` for `ttlMs`; false when the tier could not keep it. */
  store (key: string, response: StoredResponse, ttlMs: number): MaybePromise<boolean>
  /** Drops every entry. */
  clear (): MaybePromise<void>
  close (): MaybePromise<void>
}
