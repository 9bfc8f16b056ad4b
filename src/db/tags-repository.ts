/**
 * SQL for tags. A tag is visible to a viewer when at least one note the viewer may see
 * carries it, so tag names of other users' private notes never leak through `tags`.
 */
import type { Viewer } from '../auth/viewer.ts'
import type { Database, QueryScope } from './gateway.ts'
import type { PageWindow, TagRow } from './rows.ts'
import { noteVisibleTo } from './visibility.ts'

export interface TagsRepository {
  /** Tags of notes, for the notes the viewer may see (others answer no tags). */
  byNoteIds (scope: QueryScope, viewer: Viewer, noteIds: readonly string[]): Promise<Array<TagRow & { noteId: string }>>
  byNames (scope: QueryScope, viewer: Viewer, names: readonly string[]): Promise<TagRow[]>
  page (scope: QueryScope, viewer: Viewer, window: PageWindow): Promise<TagRow[]>
  /** Makes sure every name exists; returns the rows in the order of `names`. */
  upsertNames (scope: QueryScope, names: readonly string[]): Promise<TagRow[]>
  /** Replaces a note's tags; returns the ids of tags it had before. */
  replaceNoteTags (scope: QueryScope, noteId: string, tagIds: readonly string[]): Promise<string[]>
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
      order by t.id limit ${first}`),

    async upsertNames (scope, names) {
      if (names.length === 0) return []
      const unique = [...new Set(names)]
      // No lock on tags that exist: `do nothing` leaves them alone (an update would lock each
      // popular tag until commit and serialise every note written with it). New names are
      // inserted in one sorted order, so two writers racing on the same new names wait for
      // each other instead of deadlocking. The ids are read by a second statement: its fresh
      // snapshot sees names a concurrent writer committed while this insert waited.
      await db.query(scope, 'insertTags', (sql) => sql`
        insert into tags (name) select name from unnest(${unique}::text[]) as name order by name
        on conflict (name) do nothing`)
      const rows = await db.query<TagRow>(scope, 'tagsByExactNames', (sql) => sql`
        select id, name from tags where name = any(${unique}::text[])`)
      const byName = new Map(rows.map((row) => [row.name, row]))
      return names.map((name) => byName.get(name)!)
    },

    async replaceNoteTags (scope, noteId, tagIds) {
      const removed = await db.query<{ tagId: string }>(scope, 'deleteNoteTags', (sql) => sql`
        delete from note_tags where note_id = ${noteId} returning tag_id as "tagId"`)
      if (tagIds.length > 0) {
        await db.query(scope, 'insertNoteTags', (sql) => sql`
          insert into note_tags (note_id, tag_id)
          select ${noteId}, tag_id from unnest(${tagIds as string[]}::bigint[]) as tag_id order by tag_id
          on conflict do nothing`)
      }
      return removed.map((row) => row.tagId)
    }
  }
}
