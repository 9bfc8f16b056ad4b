/**
 * Mutation fields whose resolvers declare exactly what they change in ctx.invalidatedTags,
 * and whose writes keep their transaction ids in ctx.commits (src/db/commits.ts): the writer
 * waits for those commits' notifications only.
 * A mutation field not listed here (one added to the schema without thinking about the cache)
 * drops the whole cache: conservative, and logged so that someone adds it here.
 */
export const knownMutationFields: ReadonlySet<string> = new Set([
  'signUp', // adds the new user to `users` and `User:<id>`
  'login', // changes nothing
  'createNote',
  'updateNote',
  'deleteNote',
  'updateUser',
  '__typename'
])
