import { cacheTags } from '../cache/cache-tags.ts'
import type { UserRow } from '../db/rows.ts'
import { createBatchLoader, type LoaderOptions } from './loader-options.ts'
import type { LoaderDeps } from './loaders.ts'
import { throughRowCache } from './shared-rows.ts'

/** Users by id; a missing id resolves to null. Users are public profiles: no visibility rule. */
export function createUserByIdLoader ({ repositories, scope, rowCache }: LoaderDeps, options: LoaderOptions) {
  return createBatchLoader<string, UserRow | null>('userById', options, async (ids) => {
    const found = await throughRowCache(rowCache, ids, (id) => `User:${id}`, async (missing) => {
      const rows = await repositories.users.byIds(scope, missing)
      return new Map(rows.map((row) => [row.id, { value: row, tags: [cacheTags.entity('User', row.id)] }]))
    })
    return found.map((user) => user ?? null)
  })
}
