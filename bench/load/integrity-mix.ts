/**
 * The write mix as check:integrity sends it: the same writes and read shapes as
 * `writeMixEntries`, but every read asks for the ids that let its answer be checked against
 * the database afterwards (read-verifier.ts): the note's id, title, visibility, author id and
 * name, tags; the user's id and name; a page of users after a given id. The reads hit more
 * loaders than the bench's (author ids, tags), so more statements run under the deadline and a
 * driver that handed one statement's rows to another would show in more places.
 */
import { writeMixEntries } from './request-mix.ts'
import type { MixEntry, ReadMixEntry } from './request-mix.ts'

/** The operations read-verifier.ts knows how to check, by name. */
export const INTEGRITY_READS = Object.freeze({
  userList: 'query userList($after: ID) { users(first: 20, after: $after) { id name } }',
  noteDetail: 'query noteDetail($id: ID!) { note(id: $id) { id title visibility author { id name } tags { name } } }',
  userNotes: 'query userNotes($id: ID!) { user(id: $id) { id name notes { id title visibility author { id } tags { name } } } }'
})

export type IntegrityReadName = keyof typeof INTEGRITY_READS

const VARIABLES: Readonly<Record<IntegrityReadName, ReadMixEntry['variables']>> = {
  userList: { after: '$userId' },
  noteDetail: { id: '$noteId' },
  userNotes: { id: '$userId' }
}

/** The bench write mix's shares (85 % reads as 30/40/30, 15 % writes) with the checkable reads. */
export const integrityMixEntries: readonly MixEntry[] = Object.freeze(writeMixEntries.map((entry): MixEntry => {
  if ('write' in entry) return entry
  if (!Object.hasOwn(INTEGRITY_READS, entry.name)) throw new Error(`the write mix has a read the integrity check cannot verify: ${entry.name}`)
  const name = entry.name as IntegrityReadName
  return { name, weight: entry.weight, query: INTEGRITY_READS[name], variables: VARIABLES[name] }
}))
