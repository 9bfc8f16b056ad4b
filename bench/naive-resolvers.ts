/**
 * The same schema's child fields resolved the naive way: one SQL statement per parent,
 * through the same gateway (so counted, deadline-bound, visibility rule inside), no loaders.
 * This is what the N+1 problem looks like; `npm run bench:loaders` measures it against the
 * loaders, and the N+1 guard test installs one of these to show that the guard trips.
 *
 * Install with `app.graphql.defineResolvers(naiveResolvers)` before the first request.
 */
import type { RequestContext } from '../src/graphql/context.ts'
import type { NoteRow, TagRow, UserRow } from '../src/db/rows.ts'
import { noteVisibleTo } from '../src/db/visibility.ts'
import * as rules from '../src/graphql/input-rules.ts'

type WindowArgs = { first?: number, after?: string } & Record<string, unknown>

const NOTE_COLUMNS = 'n.id, n.author_id as "authorId", n.title, n.body, n.visibility, n.created_at as "createdAt", n.updated_at as "updatedAt"'

export const naiveResolvers = {
  User: {
    notes: async (user: UserRow, args: WindowArgs, ctx: RequestContext): Promise<NoteRow[]> => {
      const { first, after } = rules.pageWindow(args, 20)
      if (first === 0) return []
      return ctx.services.db.query<NoteRow>(ctx, 'naiveNotesOfAuthor', (sql) => sql`
        select ${sql.unsafe(NOTE_COLUMNS)} from notes n
        where n.author_id = ${user.id} and n.id > ${after ?? '0'} and ${noteVisibleTo(ctx.viewer)}
        order by n.id limit ${first}`)
    },

    noteCount: async (user: UserRow, _: unknown, ctx: RequestContext): Promise<number> => {
      const [row] = await ctx.services.db.query<{ count: number }>(ctx, 'naiveNoteCount', (sql) => sql`
        select count(*)::int as count from notes n where n.author_id = ${user.id} and ${noteVisibleTo(ctx.viewer)}`)
      return row.count
    }
  },

  Note: {
    author: async (note: NoteRow, _: unknown, ctx: RequestContext): Promise<UserRow> => {
      const [row] = await ctx.services.db.query<UserRow>(ctx, 'naiveAuthor', (sql) => sql`
        select id, name, email, role, created_at as "createdAt" from users where id = ${note.authorId}`)
      if (!row) throw new Error(`note ${note.id} has no author ${note.authorId}`)
      return row
    },

    tags: (note: NoteRow, _: unknown, ctx: RequestContext): Promise<TagRow[]> => naiveTagsOfNote(ctx, note.id)
  },

  Tag: {
    notes: async (tag: TagRow, args: WindowArgs, ctx: RequestContext): Promise<NoteRow[]> => {
      const { first, after } = rules.pageWindow(args, 20)
      if (first === 0) return []
      return ctx.services.db.query<NoteRow>(ctx, 'naiveNotesOfTag', (sql) => sql`
        select ${sql.unsafe(NOTE_COLUMNS)} from note_tags nt join notes n on n.id = nt.note_id
        where nt.tag_id = ${tag.id} and nt.note_id > ${after ?? '0'} and ${noteVisibleTo(ctx.viewer)}
        order by nt.note_id limit ${first}`)
    }
  }
}

/** One statement for one note's tags: the per-parent query a loader would have batched. */
export function naiveTagsOfNote (ctx: RequestContext, noteId: string): Promise<TagRow[]> {
  return ctx.services.db.query<TagRow>(ctx, 'naiveTagsOfNote', (sql) => sql`
    select t.id, t.name from note_tags nt join tags t on t.id = nt.tag_id
    where nt.note_id = ${noteId} order by t.id`)
}
