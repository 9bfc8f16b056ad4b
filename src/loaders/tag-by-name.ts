import type { TagRow } from '../db/rows.ts'
import { createBatchLoader, type LoaderDeps, type LoaderOptions } from './loader-options.ts'

/** Tags by name, null unless the viewer may see at least one note carrying it. */
export function createTagByNameLoader ({ repositories, scope, viewer }: LoaderDeps, options: LoaderOptions) {
  return createBatchLoader<string, TagRow | null>('tagByName', options, async (names) => {
    const rows = await repositories.tags.byNames(scope, viewer, names)
    const byName = new Map(rows.map((row) => [row.name, row]))
    return names.map((name) => byName.get(name) ?? null)
  })
}
