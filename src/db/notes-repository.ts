/**
 * SQL for notes. Every read carries the viewer's visibility rule inside the statement, and
 * every batch read answers all its keys with one statement: windowed child lists use a
 * LATERAL join over the unnested keys, so each parent gets its own first/after window.
 */
import type { Viewer } from '../viewer.ts'
import { commitColumn, takeCommit } from './commits.ts'
import type { Database, QueryScope } from './gateway.ts'
import type { NoteRow, PageWindow, TagRow } from './rows.ts'
import type { SqlBuilder, SqlFragment } from './sql-template.ts'
import { noteVisibleTo } from './visibility.ts'

export interface ParentWindow extends PageWindow {
  parentId: string
}

export interface NoteChanges {
  title?: string
  body?: string
  visibility?: 'PRIVATE' | 'PUBLIC'
}

export interface NewNote {
  authorId: string
  title: string
  body: string
  visibility: 'PRIVATE' | 'PUBLIC'
}

export interface UpdatedNote {
  note: NoteRow
  visibilityBefore: NoteRow['visibility']
  /** With new tag names: the note's tags in their order, and the ids of the tags it lost. */
  tagChange: { tags: TagRow[], removedTagIds: string[] } | undefined
}

export interface NotesRepository {
  byIds (scope: QueryScope, viewer: Viewer, ids: readonly string[]): Promise<NoteRow[]>
  /** Rows carry `parentIndex`: the position of the window in `windows` they answer. */
  byAuthors (scope: QueryScope, viewer: Viewer, windows: readonly ParentWindow[]): Promise<Array<NoteRow & { parentIndex: number }>>
  byTags (scope: QueryScope, viewer: Viewer, windows: readonly ParentWindow[]): Promise<Array<NoteRow & { parentIndex: number }>>
  countsByAuthors (scope: QueryScope, viewer: Viewer, authorIds: readonly string[]): Promise<Array<{ authorId: string, count: number }>>
  page (scope: QueryScope, viewer: Viewer, window: PageWindow, tagName: string | null): Promise<NoteRow[]>
  /** The new note and its tags, in the order of `tagNames` (one statement: migrations/003). */
  create (scope: QueryScope, note: NewNote, tagNames: readonly string[]): Promise<{ note: NoteRow, tags: TagRow[] }>
  /**
   * Updates the note if `viewer` may edit it (undefined if not, or if it does not exist), and
   * with `tagNames` replaces its tags (one statement: migrations/003).
   */
  updateEditable (scope: QueryScope, viewer: Viewer, id: string, changes: NoteChanges, tagNames: readonly string[] | undefined): Promise<UpdatedNote | undefined>
  deleteEditable (scope: QueryScope, viewer: Viewer, id: string): Promise<NoteRow | undefined>
}

export function createNotesRepository (db: Database): NotesRepository {
  return {
    byIds: (scope, viewer, ids) => db.read<NoteRow>(scope, 'notesByIds', (sql) => sql`
      select ${columns(sql)} from notes n
      where n.id = any(${ids as string[]}::bigint[]) and ${noteVisibleTo(viewer)}`),

    byAuthors: (scope, viewer, windows) => db.read(scope, 'notesByAuthors', (sql) => sql`
      select k.ord - 1 as "parentIndex", ${columns(sql)}
      from unnest(${windows.map((w) => w.parentId)}::bigint[], ${windows.map((w) => w.first)}::int[],
                  ${windows.map((w) => w.after ?? '0')}::bigint[]) with ordinality as k(parent_id, first, after_id, ord)
      cross join lateral (
        select * from notes n
        where n.author_id = k.parent_id and n.id > k.after_id and ${noteVisibleTo(viewer)}
        order by n.id limit k.first) n
      order by k.ord, n.id`),

    byTags: (scope, viewer, windows) => db.read(scope, 'notesByTags', (sql) => sql`
      select k.ord - 1 as "parentIndex", ${columns(sql)}
      from unnest(${windows.map((w) => w.parentId)}::bigint[], ${windows.map((w) => w.first)}::int[],
                  ${windows.map((w) => w.after ?? '0')}::bigint[]) with ordinality as k(parent_id, first, after_id, ord)
      cross join lateral (
        select n.* from note_tags nt join notes n on n.id = nt.note_id
        where nt.tag_id = k.parent_id and nt.note_id > k.after_id and ${noteVisibleTo(viewer)}
        order by nt.note_id limit k.first) n
      order by k.ord, n.id`),

    countsByAuthors: (scope, viewer, authorIds) => db.read(scope, 'noteCountsByAuthors', (sql) => sql`
      select n.author_id as "authorId", count(*)::int as count from notes n
      where n.author_id = any(${authorIds as string[]}::bigint[]) and ${noteVisibleTo(viewer)}
      group by n.author_id`),

    page: (scope, viewer, { first, after }, tagName) => db.read<NoteRow>(scope, 'notesPage', (sql) => tagName === null
      ? sql`
        select ${columns(sql)} from notes n
        where n.id > ${after ?? '0'} and ${noteVisibleTo(viewer)} order by n.id limit ${first}`
      // The tag's links in order from `after`. The row comparison can only be an index range on
      // (tag_id, note_id): the plan made once per connection, not knowing `after`, otherwise
      // ranged over the primary key (note_id, tag_id), every link past `after` of every tag
      // (test/db/generic-plans.test.ts).
      : sql`
        select ${columns(sql)} from tags t
        cross join lateral (
          select n.* from note_tags nt join notes n on n.id = nt.note_id
          where nt.tag_id = t.id and (nt.tag_id, nt.note_id) > (t.id, ${after ?? '0'}::bigint) and ${noteVisibleTo(viewer)}
          order by nt.note_id limit ${first}) n
        where t.name = ${tagName}
        order by n.id`),

    async create (scope, note, tagNames) {
      const [row] = await db.query<NoteRow & { tagIds: string[], tagNames: string[], commit: string }>(scope, 'createNote', (sql) => sql`
        select ${columns(sql, '')}, tag_ids as "tagIds", tag_names as "tagNames", ${commitColumn(sql)}
        from jotter_create_note(${note.authorId}, ${note.title}, ${note.body}, ${note.visibility}, ${tagNames as string[]}::text[])`)
      const { tagIds, tagNames: names, ...created } = takeCommit(scope, row)
      return { note: created, tags: inGivenOrder(tagNames, tagIds, names) }
    },

    async updateEditable (scope, viewer, id, changes, tagNames) {
      const [row] = await db.query<NoteRow & { visibilityBefore: NoteRow['visibility'], tagIds: string[] | null, tagNames: string[] | null, removedTagIds: string[] | null, commit: string }>(scope, 'updateNote', (sql) => sql`
        select ${columns(sql, '')}, visibility_before as "visibilityBefore", tag_ids as "tagIds", tag_names as "tagNames",
          removed_tag_ids as "removedTagIds", ${commitColumn(sql)}
        from jotter_update_note(${id}, ${viewer.id ?? null}, ${viewer.role === 'admin'}, ${changes.title ?? null},
          ${changes.body ?? null}, ${changes.visibility ?? null}, ${tagNames === undefined ? null : tagNames as string[]}::text[])`)
      if (row === undefined) return undefined
      const { visibilityBefore, tagIds, tagNames: names, removedTagIds, ...note } = takeCommit(scope, row)
      const tagChange = tagNames === undefined
        ? undefined
        : { tags: inGivenOrder(tagNames, tagIds ?? [], names ?? []), removedTagIds: removedTagIds ?? [] }
      return { note, visibilityBefore, tagChange }
    },

    async deleteEditable (scope, viewer, id) {
      const [row] = await db.query<NoteRow & { commit: string }>(scope, 'deleteNote', (sql) => sql`
        delete from notes n where n.id = ${id} and ${editableBy(sql, viewer)}
        returning ${columns(sql)}, ${commitColumn(sql)}`)
      return row === undefined ? undefined : takeCommit(scope, row)
    }
  }
}

// Private:

function columns (sql: SqlBuilder, alias = 'n'): SqlFragment {
  const p = alias === '' ? '' : `${alias}.`
  return sql.unsafe(`${p}id, ${p}author_id as "authorId", ${p}title, ${p}body, ${p}visibility,
    ${p}created_at as "createdAt", ${p}updated_at as "updatedAt"`)
}

/** Tags as the client gave their names (the function answers them in no particular order). */
function inGivenOrder (names: readonly string[], ids: readonly string[], foundNames: readonly string[]): TagRow[] {
  const byName = new Map(foundNames.map((name, index) => [name, { id: ids[index], name }]))
  return names.map((name) => byName.get(name)!)
}

function editableBy (sql: SqlBuilder, viewer: Viewer): SqlFragment {
  return viewer.role === 'admin' ? sql`true` : sql`n.author_id = ${viewer.id}`
}
