import type { UserRow } from '../db/rows.ts'
import { createBatchLoader, type LoaderOptions } from './loader-options.ts'
import type { LoaderDeps } from './loaders.ts'

/** Users by id; a missing id resolves to null. Users are public profiles: no visibility rule. */
export function createUserByIdLoader ({ repositories, scope }: LoaderDeps, options: LoaderOptions) {
  return createBatchLoader<string, UserRow | null>('userById', options, async (ids) => {
    const rows = await repositories.users.byIds(scope, ids)
    const byId = new Map(rows.map((row) => [row.id, row]))
    return ids.map((id) => byId.get(id) ?? null)
  })
}
