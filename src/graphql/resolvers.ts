/** All resolvers, merged by type. */
import { GraphQLScalarType, Kind } from 'graphql'
import { noteResolvers } from './notes/resolvers.ts'
import { tagResolvers } from './tags/resolvers.ts'
import { userResolvers } from './users/resolvers.ts'

const DateTime = new GraphQLScalarType({
  name: 'DateTime',
  description: 'An ISO-8601 date and time in UTC.',
  serialize: (value) => (value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString()),
  parseValue: (value) => new Date(String(value)),
  parseLiteral: (ast) => (ast.kind === Kind.STRING ? new Date(ast.value) : null)
})

export const resolvers = {
  DateTime,
  Query: { ...userResolvers.Query, ...noteResolvers.Query, ...tagResolvers.Query },
  Mutation: { ...userResolvers.Mutation, ...noteResolvers.Mutation },
  User: userResolvers.User,
  Note: noteResolvers.Note,
  Tag: tagResolvers.Tag
}
