/**
 * How long a response may live: the shortest TTL among the entity types its tags contain
 * (CACHE_TTL_BY_TYPE, falling back to CACHE_TTL_MS per type); a response with no entity at all
 * lives CACHE_TTL_MS. 0 means "do not cache".
 */
import type { Config } from '../config.ts'
import { entityTypeOf } from '../changes/cache-tags.ts'

export type TtlPolicy = (tags: Iterable<string>) => number

export function createTtlPolicy ({ cacheTtlMs, cacheTtlByType }: Pick<Config, 'cacheTtlMs' | 'cacheTtlByType'>): TtlPolicy {
  const byType = new Map(Object.entries(cacheTtlByType))
  return (tags) => {
    let ttl = Infinity
    for (const tag of tags) {
      const type = entityTypeOf(tag)
      if (type === undefined) continue
      const typeTtl = byType.get(type) ?? cacheTtlMs
      if (typeTtl < ttl) ttl = typeTtl
    }
    return ttl === Infinity ? cacheTtlMs : ttl
  }
}
