/**
 * A notification of the database's triggers (migrations/002-cache-invalidation.sql) → the
 * cache tags it invalidates. The triggers report facts (which notes, authors, tags, users
 * changed, which lists changed membership); which cache tags depend on them is decided here,
 * next to the tag names (cache-tags.ts), so the SQL never spells a cache tag.
 */
import { cacheTags } from './cache-tags.ts'

export const INVALIDATION_CHANNEL = 'jotter_cache_invalidation'

export interface DatabaseChange {
  /** The cache tags to drop, or 'all' (a statement too large to list, or a payload we cannot read). */
  readonly tags: readonly string[] | 'all'
  /** The trigger's clock (epoch ms) when the change was made, if given. */
  readonly madeAtMs: number | undefined
  /** The id of the transaction that made it (migrations/004), if given. */
  readonly commit?: string
}

interface Payload {
  n?: string[]
  a?: string[]
  t?: string[]
  m?: string[]
  u?: string[]
  l?: string[]
  s?: number
  x?: string
  all?: boolean
}

const listTags: Record<string, string> = { notes: cacheTags.allNotes, users: cacheTags.allUsers, tags: cacheTags.allTags }

export function changeOf (text: string | undefined): DatabaseChange {
  let payload: Payload
  try {
    payload = JSON.parse(text ?? '') as Payload
  } catch {
    return { tags: 'all', madeAtMs: undefined }
  }
  if (payload === null || typeof payload !== 'object') return { tags: 'all', madeAtMs: undefined }
  const madeAtMs = typeof payload.s === 'number' ? payload.s : undefined
  const commit = typeof payload.x === 'string' ? payload.x : undefined
  if (payload.all === true) return { tags: 'all', madeAtMs, commit }
  const tags: string[] = []
  // Anything unexpected in a field: drop everything rather than guess.
  for (const [field, map] of fieldTags) {
    const values = payload[field]
    if (values === undefined) continue
    if (!Array.isArray(values) || !values.every((value) => typeof value === 'string')) return { tags: 'all', madeAtMs, commit }
    for (const value of values) tags.push(...map(value))
  }
  return { tags, madeAtMs, commit }
}

// Private:

const fieldTags: Array<[keyof Payload & ('n' | 'a' | 't' | 'm' | 'u' | 'l'), (value: string) => string[]]> = [
  ['n', (id) => [cacheTags.entity('Note', id)]],
  ['a', (id) => [cacheTags.notesOfAuthor(id)]],
  // A tag whose notes changed: its note lists, and `tag(name)` answers that found it.
  ['t', (id) => [cacheTags.notesOfTag(id), cacheTags.entity('Tag', id)]],
  ['m', (name) => [cacheTags.tagName(name)]],
  ['u', (id) => [cacheTags.entity('User', id)]],
  ['l', (list) => listTags[list] === undefined ? [] : [listTags[list]]]
]
