/**
 * An options object for lru-cache's get(), made once per cache and passed to every get on a hot
 * path. lru-cache 11 writes `get(key, getOptions = {})`: a get without options makes a fresh
 * object each call (and writes its diagnostics `status` into it), and a cache hit makes five
 * gets (verified token, users row, operation names, document, stored response). Reused, it
 * makes none. One per cache, since lru-cache writes into it.
 */
import type { LRUCache } from 'lru-cache'

export function reusableGetOptions<K extends {}, V extends {}> (): LRUCache.GetOptions<K, V, unknown> {
  return {}
}
