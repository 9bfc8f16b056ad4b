import type { UserRow } from '../db/rows.ts'
import { createBatchLoader, type LoaderDeps, type LoaderOptions } from './loader-options.ts'
import { throughRowCache } from '../rows/through-row-cache.ts'

/** Users by id; a missing id resolves to null. Users are public profiles: no visibility rule. */
export function createUserByIdLoader ({ rowSources, scope, rowCache }: LoaderDeps, options: LoaderOptions) {
  return createBatchLoader<string, UserRow | null>('userById', options, async (ids) => {
    const found = await throughRowCache(rowCache, rowSources.user, scope, ids)
    return found.map((user) => user ?? null)
  })
}
