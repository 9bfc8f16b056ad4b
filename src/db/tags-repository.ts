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

    byNames: (scope, viewer, names) => db.read<TagRow>(scope, 'tagsByNames', (sql) => sql`
      select t.id, t.name from tags t
      where t.name = any(${names as string[]}::text[]) and exists (
        select 1 from note_tags nt join notes n on n.id = nt.note_id
        where nt.tag_id = t.id and ${noteVisibleTo(viewer)})`),

    page: (scope, viewer, { first, after }) => db.read<TagRow>(scope, 'tagsPage', (sql) => sql`
      select t.id, t.name from tags t
      where t.id > ${after ?? '0'} and exists (
        select 1 from note_tags nt join notes n on n.id = nt.note_id
        where nt.tag_id = t.id and ${noteVisibleTo(viewer)})
      order by t.id limit ${first}`)
  }
}
