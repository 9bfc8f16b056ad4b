/**
 * What a change invalidates, in one place: facts about a write (which notes, authors, tags,
 * users changed, which lists changed membership) → the cache tags that depend on them. The
 * database's triggers (migrations/002, 004–006) report those facts in every notification, and a
 * mutation's resolver reports the same facts for its own process (graphql/response-tags.ts);
 * both come here, next to the tag names (cache-tags.ts), so neither SQL nor a resolver spells
 * a cache tag.
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

/** What a write changed. */
export interface ChangedFacts {
  readonly notes?: readonly string[]
  readonly authors?: readonly string[]
  /** Tags (by id) whose notes changed: the lists of their notes. */
  readonly tagIds?: readonly string[]
  /** Tags (by id) renamed or gone: every answer that shows them. */
  readonly tagEntities?: readonly string[]
  /** Tag names looked up (`tag(name)`, `notes(tag:)`) whose answers changed. */
  readonly tagNames?: readonly string[]
  /** Users whose row changed: every answer that shows them. */
  readonly users?: readonly string[]
  /** Users created or deleted: also the answers that looked their id up without showing them. */
  readonly usersCreatedOrGone?: readonly string[]
  /** Whole lists whose membership changed. */
  readonly lists?: ReadonlyArray<'notes' | 'users' | 'tags'>
}

/** The cache tags that depend on `facts`. */
export function tagsOfChange (facts: ChangedFacts): string[] {
  const tags: string[] = []
  for (const [field, map] of factTags) for (const value of facts[field] ?? []) tags.push(...map(value))
  return tags
}

/** The notification's fields, one letter each (a payload is at most 8000 bytes). */
interface Payload {
  n?: string[]
  a?: string[]
  t?: string[]
  m?: string[]
  u?: string[]
  l?: string[]
  g?: string[]
  e?: string[]
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
  const facts: Record<string, readonly string[]> = {}
  // Anything unexpected in a field: drop everything rather than guess.
  for (const [letter, field] of payloadFields) {
    const values = payload[letter]
    if (values === undefined) continue
    if (!Array.isArray(values) || !values.every((value) => typeof value === 'string')) return { tags: 'all', madeAtMs, commit }
    facts[field] = values
  }
  return { tags: tagsOfChange(facts as ChangedFacts), madeAtMs, commit }
}

// Private:

const factTags: Array<[keyof ChangedFacts, (value: string) => string[]]> = [
  ['notes', (id) => [cacheTags.entity('Note', id)]],
  ['authors', (id) => [cacheTags.notesOfAuthor(id)]],
  // A tag whose notes changed: the lists of its notes. `tag(name)` answers, which find a tag
  // only while a visible note carries it, carry the name's tag (tagNames, reported with it).
  ['tagIds', (id) => [cacheTags.notesOfTag(id)]],
  ['tagEntities', (id) => [cacheTags.entity('Tag', id)]],
  ['tagNames', (name) => [cacheTags.tagName(name)]],
  ['users', (id) => [cacheTags.entity('User', id)]],
  ['usersCreatedOrGone', (id) => [cacheTags.userLookup(id)]],
  ['lists', (list) => listTags[list] === undefined ? [] : [listTags[list]]]
]

const payloadFields: Array<[keyof Payload & ('n' | 'a' | 't' | 'm' | 'u' | 'l' | 'g' | 'e'), keyof ChangedFacts]> = [
  ['n', 'notes'], ['a', 'authors'], ['t', 'tagIds'], ['m', 'tagNames'], ['u', 'users'], ['l', 'lists'], ['g', 'tagEntities'], ['e', 'usersCreatedOrGone']
]
