/** Query.tag/tags and Tag fields. */
import { cacheTags } from '../../changes/cache-tags.ts'
import type { RequestContext } from '../context.ts'
import type { TagRow } from '../../db/rows.ts'
import * as rules from '../input-rules.ts'
import { seen, seenAll } from '../response-tags.ts'

type Args<T> = T & Record<string, unknown>

export const tagResolvers = {
  Query: {
    tag: async (_: unknown, args: Args<{ name: string }>, ctx: RequestContext) => {
      const name = rules.storable(args.name, 'name')
      ctx.cacheTags.add(cacheTags.tagName(name))
      return seen(ctx, 'Tag', await ctx.loaders.tagByName.load(name))
    },

    tags: async (_: unknown, args: Args<{ first?: number, after?: string }>, ctx: RequestContext) => {
      const window = rules.pageWindow(args, 50)
      const rows = window.first === 0 ? [] : await ctx.services.repositories.tags.page(ctx, ctx.viewer, window)
      return seenAll(ctx, 'Tag', rows, cacheTags.allTags)
    }
  },

  Tag: {
    notes: async (tag: TagRow, args: Args<{ first?: number, after?: string }>, ctx: RequestContext) => {
      const window = rules.pageWindow(args, 20)
      const rows = window.first === 0 ? [] : await ctx.loaders.notesByTag.load({ parentId: tag.id, ...window })
      return seenAll(ctx, 'Note', rows, cacheTags.notesOfTag(tag.id))
    }
  }
}
