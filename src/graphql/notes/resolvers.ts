/** Query.note/notes, Note fields, and the createNote/updateNote/deleteNote mutations. */
import { cacheTags } from '../../changes/cache-tags.ts'
import type { RequestContext } from '../context.ts'
import type { NoteRow, TagRow } from '../../db/rows.ts'
import { apiError } from '../../errors.ts'
import * as rules from '../input-rules.ts'
import { requireViewer } from '../require-viewer.ts'
import { changed, seen, seenAll } from '../response-tags.ts'

type Args<T> = T & Record<string, unknown>
type Visibility = 'PRIVATE' | 'PUBLIC'

interface NoteInput {
  title?: string | null
  body?: string | null
  visibility?: Visibility | null
  tags?: string[] | null
}

export const noteResolvers = {
  Query: {
    note: async (_: unknown, args: Args<{ id: string }>, ctx: RequestContext) => {
      const id = rules.id(args.id)
      // Tagged even when null: a cached "not visible" must go when the note appears or opens up.
      ctx.cacheTags.add(cacheTags.entity('Note', id))
      return seen(ctx, 'Note', await ctx.loaders.noteById.load(id))
    },

    notes: async (_: unknown, args: Args<{ first?: number, after?: string, tag?: string | null }>, ctx: RequestContext) => {
      const window = rules.pageWindow(args, 20)
      const tag = args.tag == null ? null : rules.storable(args.tag, 'tag')
      const listTag = tag === null ? cacheTags.allNotes : cacheTags.tagName(tag)
      if (window.first === 0) return seenAll(ctx, 'Note', [], listTag)
      const rows = await ctx.services.repositories.notes.page(ctx, ctx.viewer, window, tag)
      for (const row of rows) ctx.loaders.noteById.prime(row.id, row)
      return seenAll(ctx, 'Note', rows, listTag)
    }
  },

  Mutation: {
    async createNote (_: unknown, { input }: Args<{ input: NoteInput & { title: string } }>, ctx: RequestContext) {
      const authorId = requireViewer(ctx)
      const fields = {
        authorId,
        title: rules.title(input.title),
        body: rules.body(input.body ?? ''),
        visibility: input.visibility ?? 'PRIVATE'
      }
      const names = rules.tagNames(input.tags ?? [])
      const { note, tags } = await ctx.services.repositories.notes.create(ctx, fields, names)
      invalidateNoteLists(ctx, note, tags.map((t) => t.id), names)
      ctx.loaders.tagsByNote.prime(note.id, tags)
      return seen(ctx, 'Note', note)
    },

    async updateNote (_: unknown, args: Args<{ id: string, input: NoteInput }>, ctx: RequestContext) {
      requireViewer(ctx)
      const id = rules.id(args.id)
      const { input } = args
      const changes = {
        title: input.title == null ? undefined : rules.title(input.title),
        body: input.body == null ? undefined : rules.body(input.body),
        visibility: input.visibility ?? undefined
      }
      const names = input.tags == null ? undefined : rules.tagNames(input.tags)
      const result = await ctx.services.repositories.notes.updateEditable(ctx, ctx.viewer, id, changes, names)
      if (!result) throw apiError('NOTE_NOT_FOUND', { id })
      const { visibilityBefore, note, tagChange } = result
      changed(ctx, { notes: [id] })
      if (tagChange) {
        ctx.loaders.tagsByNote.prime(id, tagChange.tags)
        invalidateNoteLists(ctx, note, [...tagChange.removedTagIds, ...tagChange.tags.map((t) => t.id)], names ?? [])
      } else if (visibilityBefore !== note.visibility) {
        // The note enters or leaves other viewers' lists: every list it is in, by its tags too.
        const tags = await ctx.loaders.tagsByNote.load(id)
        invalidateNoteLists(ctx, note, tags.map((t) => t.id), tags.map((t) => t.name))
      }
      ctx.loaders.noteById.clear(id).prime(id, note)
      return seen(ctx, 'Note', note)
    },

    async deleteNote (_: unknown, args: Args<{ id: string }>, ctx: RequestContext) {
      requireViewer(ctx)
      const id = rules.id(args.id)
      const tags = await ctx.loaders.tagsByNote.load(id)
      const note = await ctx.services.repositories.notes.deleteEditable(ctx, ctx.viewer, id)
      if (!note) throw apiError('NOTE_NOT_FOUND', { id })
      invalidateNoteLists(ctx, note, tags.map((t) => t.id), tags.map((t) => t.name))
      return id
    }
  },

  Note: {
    author: async (note: NoteRow, _: unknown, ctx: RequestContext) => {
      const author = await ctx.loaders.userById.load(note.authorId)
      if (!author) throw new Error(`note ${note.id} has no author ${note.authorId}`)
      return seen(ctx, 'User', author)
    },

    tags: async (note: NoteRow, _: unknown, ctx: RequestContext): Promise<TagRow[]> =>
      seenAll(ctx, 'Tag', await ctx.loaders.tagsByNote.load(note.id))
  }
}

// Private:

/** A note entered or left lists: all notes, its author's, its tags' (by id and by name), the tags list. */
function invalidateNoteLists (ctx: RequestContext, note: NoteRow, tagIds: readonly string[], tagNames: readonly string[]): void {
  changed(ctx, { notes: [note.id], authors: [note.authorId], tagIds, tagNames, lists: ['notes', 'tags'] })
}
