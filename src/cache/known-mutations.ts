/**
 * Mutation fields whose resolvers declare exactly what they change in ctx.invalidatedTags.
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
