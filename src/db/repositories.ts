/** All repositories over one Database, built once at start. */
import type { Database } from './gateway.ts'
import { createNotesRepository, type NotesRepository } from './notes-repository.ts'
import { createTagsRepository, type TagsRepository } from './tags-repository.ts'
import { createUsersRepository, type UsersRepository } from './users-repository.ts'

export interface Repositories {
  users: UsersRepository
  notes: NotesRepository
  tags: TagsRepository
}

export function createRepositories (db: Database): Repositories {
  return { users: createUsersRepository(db), notes: createNotesRepository(db), tags: createTagsRepository(db) }
}
