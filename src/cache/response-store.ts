/**
 * The tiny interface both tiers implement (the memory tier and the Redis tier), in the spirit
 * of envelop's response-cache `cache.ts`. A store is race-safe on its own: `lookup` hands out a
 * ticket taken before execution, and `store` refuses (returns false) when any tag of the
 * response was invalidated after that ticket, so a response computed from data a concurrent
 * mutation changed is never written.
 */

export interface StoredResponse {
  /** The exact response bytes a hit answers with. */
  readonly body: Buffer
  /** Strong ETag of `body` (quoted). */
  readonly etag: string
  /** Entity and list tags of everything in the response (see cache-tags.ts). */
  readonly tags: readonly string[]
}

export interface Lookup {
  readonly response: StoredResponse | undefined
  /** Remaining lifetime of `response` in ms (0 when unknown or missing). */
  readonly remainingTtlMs: number
  /** Opaque: the store's invalidation position when the lookup happened. */
  readonly ticket: unknown
}

export type MaybePromise<T> = T | Promise<T>

export interface ResponseStore {
  lookup (key: string): MaybePromise<Lookup>
  /** Writes unless a tag was invalidated since `ticket`; false = refused. */
  store (key: string, response: StoredResponse, ttlMs: number, ticket: unknown): MaybePromise<boolean>
  /** Drops every response carrying any of `tags`, for every viewer. */
  invalidate (tags: readonly string[]): MaybePromise<void>
  /** Drops everything (an unknown mutation, a Redis tier that cannot be trusted any more). */
  clear (): MaybePromise<void>
}
