/**
 * The reference server's resolvers for the operations the load mixes send (users, user, note,
 * notes, User.notes, Note.author, Note.tags; createNote, updateNote, deleteNote, updateUser).
 * Fields the mixes never ask for (noteCount, tag, tags, signUp, login) are left out.
 * Every write is one transaction; tags are upserted in name order with `on conflict do
 * nothing`, so two writers of the same new tags take their locks in the same order.
 */
import mercurius from 'mercurius'
import type pg from 'pg'
import { NOTE_COLUMNS, USER_COLUMNS, viewerParameters, visibleTo, type Loaders, type Note, type Tag, type User, type Viewer } from './loaders.ts'

// Mercurius is CommonJS: its named exports come through the default one.
const { ErrorWithProps } = mercurius

export interface ReferenceContext { pool: pg.Pool, viewer: Viewer | null, loaders: Loaders }

interface Window { first?: number, after?: string | null }
interface NoteInput { title?: string | null, body?: string | null, visibility?: string | null, tags?: string[] | null }

export const resolvers = {
  Query: {
    me: (_: unknown, __: unknown, ctx: ReferenceContext) => ctx.viewer === null ? null : ctx.loaders.userById.load(ctx.viewer.id),
    user: (_: unknown, { id }: { id: string }, ctx: ReferenceContext) => ctx.loaders.userById.load(id),
    note: (_: unknown, { id }: { id: string }, ctx: ReferenceContext) => ctx.loaders.noteById.load(id),

    async users (_: unknown, { first = 20, after }: Window, ctx: ReferenceContext) {
      const { rows } = await ctx.pool.query<User>(`select ${USER_COLUMNS} from users u where u.id > $1 order by u.id limit $2`, [after ?? '0', first])
      for (const row of rows) ctx.loaders.userById.prime(row.id, row)
      return rows
    },

    async notes (_: unknown, { first = 20, after, tag }: Window & { tag?: string | null }, ctx: ReferenceContext) {
      const byTag = tag == null ? '' : 'and n.id in (select nt.note_id from note_tags nt join tags t on t.id = nt.tag_id where t.name = $3)'
      const parameters = [after ?? '0', first, ...tag == null ? [] : [tag]]
      const { rows } = await ctx.pool.query<Note>(`select ${NOTE_COLUMNS} from notes n where n.id > $1 ${byTag}
        and ${visibleTo(ctx.viewer, parameters.length + 1)} order by n.id limit $2`, [...parameters, ...viewerParameters(ctx.viewer)])
      for (const row of rows) ctx.loaders.noteById.prime(row.id, row)
      return rows
    }
  },

  Mutation: {
    createNote: (_: unknown, { input }: { input: NoteInput & { title: string } }, ctx: ReferenceContext) => {
      const authorId = requireViewer(ctx).id
      return inTransaction(ctx.pool, async (client) => {
        const { rows: [note] } = await client.query<Note>(`insert into notes as n (author_id, title, body, visibility) values ($1, $2, $3, $4)
          returning ${NOTE_COLUMNS}`, [authorId, input.title, input.body ?? '', input.visibility ?? 'PRIVATE'])
        await setTags(client, ctx, note.id, input.tags ?? [], { replace: false })
        return note
      })
    },

    updateNote: (_: unknown, { id, input }: { id: string, input: NoteInput }, ctx: ReferenceContext) => {
      const viewer = requireViewer(ctx)
      return inTransaction(ctx.pool, async (client) => {
        const { rows: [note] } = await client.query<Note>(`update notes n set title = coalesce($3, n.title), body = coalesce($4, n.body),
          visibility = coalesce($5, n.visibility), updated_at = now() where n.id = $1 and (n.author_id = $2 or $6) returning ${NOTE_COLUMNS}`,
        [id, viewer.id, input.title ?? null, input.body ?? null, input.visibility ?? null, viewer.role === 'admin'])
        if (note === undefined) throw new ErrorWithProps(`Note ${id} not found.`, { code: 'NOT_FOUND' })
        if (input.tags != null) await setTags(client, ctx, id, input.tags, { replace: true })
        ctx.loaders.noteById.clear(id).prime(id, note)
        return note
      })
    },

    async deleteNote (_: unknown, { id }: { id: string }, ctx: ReferenceContext) {
      const viewer = requireViewer(ctx)
      const { rows } = await ctx.pool.query('delete from notes n where n.id = $1 and (n.author_id = $2 or $3) returning n.id', [id, viewer.id, viewer.role === 'admin'])
      if (rows.length === 0) throw new ErrorWithProps(`Note ${id} not found.`, { code: 'NOT_FOUND' })
      return id
    },

    async updateUser (_: unknown, { input }: { input: { name?: string | null } }, ctx: ReferenceContext) {
      const viewer = requireViewer(ctx)
      if (input.name == null) return ctx.loaders.userById.load(viewer.id)
      const { rows: [user] } = await ctx.pool.query<User>(`update users u set name = $1 where u.id = $2 returning ${USER_COLUMNS}`, [input.name.trim(), viewer.id])
      if (user === undefined) throw new ErrorWithProps('User not found.', { code: 'NOT_FOUND' })
      return user
    }
  },

  User: {
    email: (user: User, _: unknown, ctx: ReferenceContext) => user.id === ctx.viewer?.id || ctx.viewer?.role === 'admin' ? user.email : null,
    notes: (user: User, { first = 20, after }: Window, ctx: ReferenceContext) => first === 0 ? [] : ctx.loaders.notesByAuthor(first, after ?? null).load(user.id)
  },

  Note: {
    author: (note: Note, _: unknown, ctx: ReferenceContext) => ctx.loaders.userById.load(note.authorId),
    tags: (note: Note, _: unknown, ctx: ReferenceContext) => ctx.loaders.tagsByNote.load(note.id)
  }
}

// Private:

function requireViewer (ctx: ReferenceContext): Viewer {
  if (ctx.viewer === null) throw new ErrorWithProps('Sign in to do this.', { code: 'UNAUTHENTICATED' })
  return ctx.viewer
}

/** BEGIN … COMMIT on one client; ROLLBACK on any error, and a client that failed is destroyed. */
async function inTransaction<T> (pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  let failure: Error | undefined
  try {
    await client.query('begin')
    const result = await work(client)
    await client.query('commit')
    return result
  } catch (error) {
    failure = error as Error
    await client.query('rollback').catch(() => {})
    throw error
  } finally {
    client.release(failure)
  }
}

/**
 * The note's tags become `names` (in that order in the answer, as Jotter answers them); with
 * `replace`, links to other tags go (a new note has none to remove).
 */
async function setTags (client: pg.PoolClient, ctx: ReferenceContext, noteId: string, names: readonly string[], { replace }: { replace: boolean }): Promise<void> {
  const unique = [...new Set(names)]
  let tags: Tag[] = []
  if (unique.length > 0) {
    await client.query('insert into tags (name) select n from unnest($1::text[]) as n order by n on conflict (name) do nothing', [unique])
    tags = (await client.query<Tag>('select id, name from tags where name = any($1::text[]) order by id', [unique])).rows
  }
  const ids = tags.map((tag) => tag.id)
  if (replace) await client.query('delete from note_tags where note_id = $1 and tag_id <> all($2::bigint[])', [noteId, ids])
  if (ids.length > 0) await client.query('insert into note_tags (note_id, tag_id) select $1, unnest($2::bigint[]) on conflict do nothing', [noteId, ids])
  const byName = new Map(tags.map((tag) => [tag.name, tag]))
  ctx.loaders.tagsByNote.clear(noteId).prime(noteId, unique.map((name) => byName.get(name)!))
}
