/** Query.me/user/users, User fields, and the signUp/login/updateUser mutations. */
import { Kind, type FieldNode, type GraphQLResolveInfo } from 'graphql'
import { hashPassword } from '../../auth/passwords.ts'
import { cacheTags } from '../../changes/cache-tags.ts'
import type { RequestContext } from '../context.ts'
import type { UserRow } from '../../db/rows.ts'
import { apiError } from '../../errors.ts'
import * as rules from '../input-rules.ts'
import { usersWindowId } from '../../rows/row-sources.ts'
import { throughRowCache } from '../../rows/through-row-cache.ts'
import { requireViewer } from '../require-viewer.ts'
import { changed, seen, seenAll } from '../response-tags.ts'

type Args<T> = T & Record<string, unknown>

export const userResolvers = {
  Query: {
    me: async (_: unknown, __: unknown, ctx: RequestContext) =>
      ctx.viewer.id === null ? null : seen(ctx, 'User', await ctx.loaders.userById.load(ctx.viewer.id)),

    user: async (_: unknown, args: Args<{ id: string }>, ctx: RequestContext, info: GraphQLResolveInfo) => {
      const id = rules.id(args.id)
      // Found or not: a cached "no such user" must go when signUp creates that id.
      ctx.cacheTags.add(cacheTags.userLookup(id))
      const user = await ctx.loaders.userById.load(id)
      // A rename changes only the answers that show a field of the user's own row.
      return showsOwnFields(info) ? seen(ctx, 'User', user) : user
    },

    users: async (_: unknown, args: Args<{ first?: number, after?: string }>, ctx: RequestContext) => {
      const window = rules.pageWindow(args, 20)
      if (window.first === 0) return seenAll(ctx, 'User', [], cacheTags.allUsers)
      // Through the row cache: a window is read once for every viewer (users are public profiles).
      const [rows = []] = await throughRowCache(ctx.services.rowCache, ctx.services.rowSources.usersPage, ctx, [usersWindowId(window)])
      for (const row of rows) ctx.loaders.userById.prime(row.id, row)
      return seenAll(ctx, 'User', rows, cacheTags.allUsers)
    }
  },

  Mutation: {
    async signUp (_: unknown, { input }: Args<{ input: { name: string, email: string, password: string } }>, ctx: RequestContext) {
      const name = rules.name(input.name)
      const email = rules.email(input.email)
      const password = rules.password(input.password)
      // A taken email counts as a failed sign-in of the client address: finding registered
      // emails through signUp is limited like finding them through login (docs/api.md).
      let user: UserRow | undefined
      const taken = await ctx.services.loginThrottle.attemptByClient(ctx.clientAddress, async () => {
        user = await ctx.services.repositories.users.insert(ctx, { name, email, passwordHash: await hashPassword(password) })
        return !user
      })
      if (taken || !user) throw apiError('EMAIL_TAKEN', { field: 'email' })
      changed(ctx, { users: [user.id], usersCreatedOrGone: [user.id], lists: ['users'] })
      return { token: await ctx.services.tokens.issue(user.id, user.role), user: selfView(ctx, user) }
    },

    async login (_: unknown, args: Args<{ email: string, password: string }>, ctx: RequestContext) {
      const email = rules.loginEmail(args.email)
      let found: Awaited<ReturnType<typeof ctx.services.repositories.users.credentialsByEmail>>
      // Counted per account and per client address, over the limit RATE_LIMITED (login-throttle.ts).
      const signedIn = await ctx.services.loginThrottle.attempt(email, ctx.clientAddress, async () => {
        found = await ctx.services.repositories.users.credentialsByEmail(ctx, email)
        const ok = await ctx.services.passwords.verifyLogin(found?.passwordHash, args.password)
        return ok && found !== undefined
      })
      if (!signedIn || !found) throw apiError('LOGIN_FAILED')
      const { passwordHash: _hash, ...user } = found
      return { token: await ctx.services.tokens.issue(user.id, user.role), user: selfView(ctx, user) }
    },

    async updateUser (_: unknown, { input }: Args<{ input: { name?: string | null } }>, ctx: RequestContext) {
      const viewerId = requireViewer(ctx)
      if (input.name == null) {
        const current = await ctx.loaders.userById.load(viewerId)
        if (!current) throw apiError('USER_NOT_FOUND')
        return seen(ctx, 'User', current)
      }
      const user = await ctx.services.repositories.users.updateName(ctx, viewerId, rules.name(input.name))
      if (!user) throw apiError('USER_NOT_FOUND')
      changed(ctx, { users: [user.id] })
      return seen(ctx, 'User', user)
    }
  },

  User: {
    email: (user: UserRow & { viewedBySelf?: true }, _: unknown, ctx: RequestContext) =>
      user.viewedBySelf || ctx.viewer.seesAllOf(user.id) ? user.email : null,

    notes: async (user: UserRow, args: Args<{ first?: number, after?: string }>, ctx: RequestContext) => {
      const window = rules.pageWindow(args, 20)
      const rows = window.first === 0 ? [] : await ctx.loaders.notesByAuthor.load({ parentId: user.id, ...window })
      return seenAll(ctx, 'Note', rows, cacheTags.notesOfAuthor(user.id))
    },

    noteCount: (user: UserRow, _: unknown, ctx: RequestContext) => {
      ctx.cacheTags.add(cacheTags.notesOfAuthor(user.id))
      return ctx.loaders.noteCountByAuthor.load(user.id)
    }
  }
}

// Private:

/** User fields that do not read the user's own row beyond its id (never changed by an update). */
const FIELDS_BESIDE_THE_ROW = new Set(['id', 'notes', 'noteCount', '__typename'])
const showsOwnFieldsBySelection = new WeakMap<FieldNode, boolean>()

/**
 * Whether the selection on a User asks for a field of the user's row (name, email,
 * createdAt). A fragment counts as asking: what it selects is not looked into. Decided once per
 * field node of a document (compiled queries reuse their nodes).
 */
function showsOwnFields (info: GraphQLResolveInfo): boolean {
  const first = info.fieldNodes[0]
  let shows = showsOwnFieldsBySelection.get(first)
  if (shows === undefined) {
    shows = info.fieldNodes.some((node) => node.selectionSet?.selections.some((selection) =>
      selection.kind !== Kind.FIELD || !FIELDS_BESIDE_THE_ROW.has(selection.name.value)) ?? true)
    showsOwnFieldsBySelection.set(first, shows)
  }
  return shows
}

/**
 * The user of signUp/login as they see themselves: the request is still anonymous, but the
 * answer goes to the person who just proved to be this user, so it shows their email.
 */
function selfView (ctx: RequestContext, user: UserRow): UserRow & { viewedBySelf: true } {
  return seen(ctx, 'User', { ...user, viewedBySelf: true })
}
