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
  /**
   * Makes `names` the note's tags, creating missing ones: the tag rows in the order of `names`,
   * and the ids of tags the note had and no longer has. Two statements; run it in the
   * transaction that locked or inserted the note.
   */
  setNoteTags (scope: QueryScope, noteId: string, names: readonly string[]): Promise<{ tags: TagRow[], removedTagIds: string[] }>
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

    async setNoteTags (scope, noteId, names) {
      const unique = [...new Set(names)]
      if (unique.length > 0) {
        // No lock on tags that exist: `do nothing` leaves them alone (an update would lock each
        // popular tag until commit and serialise every note written with it). New names are
        // inserted in one sorted order, so two writers racing on the same new names wait for
        // each other instead of deadlocking.
        await db.query(scope, 'insertTags', (sql) => sql`
          insert into tags (name) select name from unnest(${unique}::text[]) as name order by name
          on conflict (name) do nothing`)
      }
      // A second statement, so its snapshot sees names a concurrent writer committed while the
      // insert above waited for it. One pass over note_tags: links no longer wanted go, wanted
      // ones are added in tag-id order, and the rows say which is which.
      const rows = await db.query<{ id: string | null, name: string | null, removedTagId: string | null }>(scope, 'setNoteTags', (sql) => sql`
        with wanted as (select id, name from tags where name = any(${unique}::text[])),
        removed as (
          delete from note_tags where note_id = ${noteId} and tag_id not in (select id from wanted)
          returning tag_id),
        added as (
          insert into note_tags (note_id, tag_id) select ${noteId}, id from wanted order by id
          on conflict do nothing)
        select id, name, null::bigint as "removedTagId" from wanted
        union all select null, null, tag_id from removed`)
      const byName = new Map<string, TagRow>()
      const removedTagIds: string[] = []
      for (const row of rows) {
        if (row.removedTagId !== null) removedTagIds.push(row.removedTagId)
        else byName.set(row.name!, { id: row.id!, name: row.name! })
      }
      return { tags: names.map((name) => byName.get(name)!), removedTagIds }
    }
  }
}
