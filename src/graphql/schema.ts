/** The GraphQL schema (SDL). Resolvers live beside it, one folder per domain. */
export const typeDefs = /* GraphQL */ `
  "An ISO-8601 date and time in UTC."
  scalar DateTime

  enum Visibility { PRIVATE PUBLIC }

  type Query {
    "The signed-in user; null when anonymous."
    me: User
    user(id: ID!): User
    "Users in id order; \`first\` 0..100, \`after\` the last id seen."
    users(first: Int = 20, after: ID): [User!]!
    "A note the viewer may see; null when missing or not visible."
    note(id: ID!): Note
    "Notes the viewer may see, in id order, optionally only those tagged \`tag\`."
    notes(first: Int = 20, after: ID, tag: String): [Note!]!
    "A tag carried by at least one note the viewer may see."
    tag(name: String!): Tag
    tags(first: Int = 50, after: ID): [Tag!]!
  }

  type Mutation {
    signUp(input: SignUpInput!): AuthPayload!
    login(email: String!, password: String!): AuthPayload!
    createNote(input: CreateNoteInput!): Note!
    updateNote(id: ID!, input: UpdateNoteInput!): Note!
    deleteNote(id: ID!): ID!
    updateUser(input: UpdateUserInput!): User!
  }

  input SignUpInput { name: String!, email: String!, password: String! }
  input CreateNoteInput { title: String!, body: String, visibility: Visibility = PRIVATE, tags: [String!] }
  input UpdateNoteInput { title: String, body: String, visibility: Visibility, tags: [String!] }
  input UpdateUserInput { name: String }

  type AuthPayload { token: String!, user: User! }

  type User {
    id: ID!
    name: String!
    "Null unless the viewer is this user or an admin."
    email: String
    createdAt: DateTime!
    notes(first: Int = 20, after: ID): [Note!]!
    noteCount: Int!
  }

  type Note {
    id: ID!
    title: String!
    body: String!
    visibility: Visibility!
    author: User!
    tags: [Tag!]!
    createdAt: DateTime!
    updatedAt: DateTime!
  }

  type Tag {
    id: ID!
    name: String!
    notes(first: Int = 20, after: ID): [Note!]!
  }
`
