/**
 * The names of response-cache tags, in one place so that the resolvers that tag a response
 * and the mutations that invalidate it always agree.
 *
 * Entity tags name one object (`Note:42`); list tags name a list an object can enter or leave
 * (`notes`, `notes@author:7`, `notes@tag:3`, `tagName:work`, `users`, `tags`); `userId:7` an
 * answer that looked user 7 up by id without showing a field of theirs.
 */
export type EntityType = 'User' | 'Note' | 'Tag'

export const cacheTags = {
  entity: (type: EntityType, id: string) => `${type}:${id}`,
  allNotes: 'notes',
  notesOfAuthor: (authorId: string) => `notes@author:${authorId}`,
  notesOfTag: (tagId: string) => `notes@tag:${tagId}`,
  /** Lookups by tag name (`tag(name)`, `notes(tag:)`) depend on the name, not an id. */
  tagName: (name: string) => `tagName:${name}`,
  /** `user(id)` found or not found: changes only when that user is created or deleted. */
  userLookup: (id: string) => `userId:${id}`,
  allUsers: 'users',
  allTags: 'tags'
} as const

/** The type an entity tag names (`Note:42` → `Note`), or undefined for list tags. */
export function entityTypeOf (tag: string): EntityType | undefined {
  const colon = tag.indexOf(':')
  const type = colon === -1 ? '' : tag.slice(0, colon)
  return type === 'User' || type === 'Note' || type === 'Tag' ? type : undefined
}
