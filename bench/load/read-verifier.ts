/**
 * Checks the read answers of a load run against the database: the guard against a driver that
 * hands one statement's rows to another request. A row of the wrong statement shows as a note
 * that is not the one asked for, a title that is not its note's, an author that is not the
 * note's author or does not exist, a user page that skips or repeats users, a private note
 * in someone else's answer.
 *
 * What is known for sure: users are never created or deleted during the run, notes are
 * deleted only if this run created them, and no write changes a title. Names do change, so a
 * user's name may be any it had before, after, or that a rename of this run asked for;
 * visibility and tags change too, so a note may be missing from a stranger's answer
 * (it may have been private at that moment) and its tags may be any known tags.
 */
import type { CreatedNote, RecordedRead } from './response-ledger.ts'

/** The database's rows at one moment (database-snapshot.ts reads them). */
export interface DatabaseSnapshot {
  /** User id → name. */
  users: ReadonlyMap<string, string>
  notes: ReadonlyMap<string, CreatedNote>
  tagNames: ReadonlySet<string>
}

/** Everything an answer of the run may truthfully say. */
export interface ReadTruth {
  /** User id → every name it may have had during the run. */
  userNames: ReadonlyMap<string, ReadonlySet<string>>
  /** Every user id, in id order. */
  userIds: readonly string[]
  /** Note id → author and title: notes before or after the run, and those it created. */
  notes: ReadonlyMap<string, CreatedNote>
  tagNames: ReadonlySet<string>
}

export interface ReadMismatch {
  operation: string
  viewerId: string
  problem: string
  request: string
  answer: string
}

export interface ReadVerdict {
  /** Answers whose data was checked. */
  verified: number
  /** Error answers with no data to check (a TIMEOUT answers `note: null` or `data: null`). */
  withoutData: number
  mismatches: number
  byOperation: Record<string, { verified: number, nullAnswers: number, mismatches: number }>
  /** The first few, for the report. */
  examples: ReadMismatch[]
}

export function combineTruth ({ before, after, namesAsked, createdNotes }: {
  before: DatabaseSnapshot
  after: DatabaseSnapshot
  namesAsked: ReadonlyMap<string, ReadonlySet<string>>
  createdNotes: ReadonlyMap<string, CreatedNote>
}): ReadTruth {
  const userNames = new Map<string, Set<string>>()
  const addName = (id: string, name: string): void => {
    const names = userNames.get(id) ?? new Set<string>()
    names.add(name)
    userNames.set(id, names)
  }
  for (const snapshot of [before, after]) for (const [id, name] of snapshot.users) addName(id, name)
  for (const [id, names] of namesAsked) if (userNames.has(id)) for (const name of names) addName(id, name)
  const notes = new Map([...createdNotes, ...before.notes, ...after.notes])
  return {
    userNames,
    userIds: [...userNames.keys()].sort(compareIds),
    notes,
    tagNames: new Set([...before.tagNames, ...after.tagNames])
  }
}

/** Checks every recorded read; an operation it does not know is a mismatch, never a pass. */
export function verifyReads (reads: readonly RecordedRead[], truth: ReadTruth): ReadVerdict {
  const verdict: ReadVerdict = { verified: 0, withoutData: 0, mismatches: 0, byOperation: {}, examples: [] }
  for (const read of reads) {
    const tally = verdict.byOperation[read.operation] ??= { verified: 0, nullAnswers: 0, mismatches: 0 }
    const outcome = judgeRead(read, truth)
    if (outcome === WITHOUT_DATA) {
      verdict.withoutData++
      continue
    }
    verdict.verified++
    tally.verified++
    if (outcome === NULL_ANSWER) tally.nullAnswers++
    else if (outcome !== AGREES) {
      tally.mismatches++
      verdict.mismatches++
      if (verdict.examples.length < MAX_EXAMPLES) {
        verdict.examples.push({ operation: read.operation, viewerId: read.viewerId, problem: outcome, request: read.requestBody.slice(0, 300), answer: read.responseBody.slice(0, 500) })
      }
    }
  }
  return verdict
}

// Private:

const MAX_EXAMPLES = 5
const AGREES = 'agrees'
const NULL_ANSWER = 'null answer'
const WITHOUT_DATA = 'without data'
/** `first` of the reads that list (users, a user's notes). */
const PAGE_SIZE = 20
const DIGITS = /^\d+$/

function judgeRead (read: RecordedRead, truth: ReadTruth): string {
  let body: { data?: Record<string, unknown> | null, errors?: unknown }
  let variables: Record<string, unknown>
  try {
    body = JSON.parse(read.responseBody)
    variables = JSON.parse(read.requestBody).variables ?? {}
  } catch {
    return read.errorType === null ? `the answer is not JSON: ${read.responseBody.slice(0, 80)}` : WITHOUT_DATA
  }
  const data = body?.data
  const rootNull = data == null || Object.values(data).every((value) => value === null)
  // A failed answer keeps the data of the fields that finished; a null in place of the field
  // that failed (and of its nullable parents) says nothing.
  if (read.errorType !== null && rootNull) return WITHOUT_DATA
  if (data == null) return 'a successful answer without data'
  return checkData(read.operation, read.viewerId, variables, data, truth)
}

function checkData (operation: string, viewerId: string, variables: Record<string, unknown>, data: Record<string, unknown>, truth: ReadTruth): string {
  switch (operation) {
    case 'noteDetail': return checkNoteDetail(viewerId, String(variables.id), data.note, truth)
    case 'userNotes': return checkUserNotes(viewerId, String(variables.id), data.user, truth)
    case 'userList': return checkUserList(variables.after == null ? null : String(variables.after), data.users, truth)
    default: return `no check for the operation ${operation}: every read of the integrity mix must be verifiable`
  }
}

function checkNoteDetail (viewerId: string, askedId: string, note: unknown, truth: ReadTruth): string {
  if (note === null) {
    // A stranger's note may have been private at that moment; one's own note is always visible.
    return truth.notes.get(askedId)?.authorId === viewerId ? `note ${askedId} of the viewer answered null` : NULL_ANSWER
  }
  return checkNote(note, viewerId, truth, { id: askedId, authorId: undefined, withAuthorName: true }) ?? AGREES
}

function checkUserNotes (viewerId: string, askedId: string, user: unknown, truth: ReadTruth): string {
  if (user === null) return `user ${askedId} answered null (no user is deleted)`
  if (!isObject(user)) return `user ${askedId}: not an object`
  const userProblem = checkUser(user, truth, askedId)
  if (userProblem !== null) return userProblem
  if (!Array.isArray(user.notes)) return `user ${askedId}: notes is not a list`
  if (user.notes.length > PAGE_SIZE) return `user ${askedId}: ${user.notes.length} notes on a page of ${PAGE_SIZE}`
  let previous: string | null = null
  for (const note of user.notes) {
    const problem = checkNote(note, viewerId, truth, { id: undefined, authorId: askedId, withAuthorName: false })
    if (problem !== null) return `user ${askedId}: ${problem}`
    const id = (note as { id: string }).id
    if (previous !== null && compareIds(previous, id) >= 0) return `user ${askedId}: notes not in id order (${previous} then ${id})`
    previous = id
  }
  return AGREES
}

function checkUserList (after: string | null, users: unknown, truth: ReadTruth): string {
  if (!Array.isArray(users)) return 'users is not a list'
  // No user is created or deleted during the run: the page after `after` is exactly known.
  const expected = truth.userIds.filter((id) => after === null || compareIds(id, after) > 0).slice(0, PAGE_SIZE)
  const got = users.map((user) => (isObject(user) ? String(user.id) : String(user)))
  if (got.length !== expected.length || got.some((id, index) => id !== expected[index])) {
    return `users after ${after}: expected ids ${expected.join(',')}, got ${got.join(',')}`
  }
  for (const user of users) {
    const problem = checkUser(user as Record<string, unknown>, truth, undefined)
    if (problem !== null) return problem
  }
  return AGREES
}

function checkUser (user: Record<string, unknown>, truth: ReadTruth, askedId: string | undefined): string | null {
  const id = user.id
  if (typeof id !== 'string') return `a user without a string id: ${JSON.stringify(user).slice(0, 80)}`
  if (askedId !== undefined && id !== askedId) return `asked for user ${askedId}, got user ${id}`
  const names = truth.userNames.get(id)
  if (names === undefined) return `user ${id} does not exist`
  if (user.name !== undefined && !names.has(user.name as string)) return `user ${id} is named ${JSON.stringify(user.name)}, which it never was`
  return null
}

function checkNote (note: unknown, viewerId: string, truth: ReadTruth, expect: { id: string | undefined, authorId: string | undefined, withAuthorName: boolean }): string | null {
  if (!isObject(note)) return `a note that is not an object: ${JSON.stringify(note)}`
  const id = note.id
  if (typeof id !== 'string') return `a note without a string id: ${JSON.stringify(note).slice(0, 80)}`
  if (expect.id !== undefined && id !== expect.id) return `asked for note ${expect.id}, got note ${id}`
  const known = truth.notes.get(id)
  if (known === undefined) return `note ${id} is no note of the database nor of this run`
  if (note.title !== known.title) return `note ${id} is titled ${JSON.stringify(note.title)}, not ${JSON.stringify(known.title)}`
  const author = note.author
  if (!isObject(author) || author.id !== known.authorId) return `note ${id} has author ${JSON.stringify(isObject(author) ? author.id : author)}, not ${known.authorId}`
  if (expect.authorId !== undefined && known.authorId !== expect.authorId) return `note ${id} of user ${known.authorId} in the notes of user ${expect.authorId}`
  const authorProblem = checkUser(expect.withAuthorName ? author : { id: author.id }, truth, known.authorId)
  if (authorProblem !== null) return `note ${id}: ${authorProblem}`
  if (note.visibility !== 'PUBLIC' && note.visibility !== 'PRIVATE') return `note ${id} has visibility ${JSON.stringify(note.visibility)}`
  if (note.visibility === 'PRIVATE' && known.authorId !== viewerId) return `private note ${id} of user ${known.authorId} shown to user ${viewerId}`
  if (!Array.isArray(note.tags)) return `note ${id}: tags is not a list`
  const names = note.tags.map((tag: unknown) => (isObject(tag) ? tag.name : tag))
  if (new Set(names).size !== names.length) return `note ${id} has a tag twice: ${names.join(',')}`
  const unknown = names.find((name) => !truth.tagNames.has(name as string))
  if (unknown !== undefined) return `note ${id} has the tag ${JSON.stringify(unknown)}, which is no tag of the database`
  return null
}

function isObject (value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** Ids are bigint serials sent as strings: compared as numbers, not as text (anything else as text). */
function compareIds (left: string, right: string): number {
  if (!DIGITS.test(left) || !DIGITS.test(right)) return left < right ? -1 : left > right ? 1 : 0
  const a = BigInt(left)
  const b = BigInt(right)
  return a < b ? -1 : a > b ? 1 : 0
}
