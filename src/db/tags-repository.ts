/**
 * SQL for tags. A tag is visible to a viewer when at least one note the viewer may see
 * carries it, so tag names of other users' private notes never leak through `tags`.
 */
import type { Viewer } from '../viewer.ts'
import type { Database, QueryScope } from './gateway.ts'
import type { PageWindow, TagRow } from './rows.ts'
import { noteVisibleTo } from './visibility.ts'

export interface TagsRepository {
  /** Tags of notes, for the notes the viewer may see (others answer no tags). */
  byNoteIds (scope: QueryScope, viewer: Viewer, noteIds: readonly string[]): Promise<Array<TagRow & { noteId: string }>>
  byNames (scope: QueryScope, viewer: Viewer, names: readonly string[]): Promise<TagRow[]>
  page (scope: QueryScope, viewer: Viewer, window: PageWindow): Promise<TagRow[]>
}

export function createTagsRepository (db: Database): TagsRepository {
  return {
    // The rule holds even though callers usually pass notes they already hold: a loader key is
    // just an id, and a future caller must not learn a private note's tags from it.
    byNoteIds: (scope, viewer, noteIds) => db.read(scope, 'tagsByNoteIds', (sql) => sql`
      select nt.note_id as "noteId", t.id, t.name
      from note_tags nt join tags t on t.id = nt.tag_id join notes n on n.id = nt.note_id
      where nt.note_id = any(${noteIds as string[]}::bigint[]) and ${noteVisibleTo(viewer)}
      order by nt.note_id, t.id`),

    // Per tag, its links in order until the first visible note, each note probed by its key
    // (OFFSET 0 keeps that probe a subplan). As a plain EXISTS, the plan made once per
    // connection (connect.ts), not knowing how many names or rows are asked for, hashed every
    // link and every note when tags are few (test/db/generic-plans.test.ts).
    byNames: (scope, viewer, names) => db.read<TagRow>(scope, 'tagsByNames', (sql) => sql`
      select t.id, t.name from tags t
      cross join lateral (
        select from note_tags nt
        where nt.tag_id = t.id and exists (select from notes n where n.id = nt.note_id and ${noteVisibleTo(viewer)} offset 0)
        limit 1) visible
      where t.name = any(${names as string[]}::text[])`),

    // Tags in id order, each kept at its first visible note, as in byNames.
    page: (scope, viewer, { first, after }) => db.read<TagRow>(scope, 'tagsPage', (sql) => sql`
      select t.id, t.name from tags t
      cross join lateral (
        select from note_tags nt
        where nt.tag_id = t.id and exists (select from notes n where n.id = nt.note_id and ${noteVisibleTo(viewer)} offset 0)
        limit 1) visible
      where t.id > ${after ?? '0'}
      order by t.id limit ${first}`)
  }
}
