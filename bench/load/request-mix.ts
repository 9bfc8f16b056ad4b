/**
 * What each scheduled request asks: a seeded user (their own token, so a per-user response
 * cache is exercised honestly), an operation picked by weight, and real ids for its variables.
 *
 * Everything that can be is compiled at setup: each operation's JSON body is split around its
 * id placeholders once, ids are JSON-quoted once, each user's headers are built once. A request
 * then costs a few random numbers and one string concatenation, which keeps the scheduler on
 * time at thousands of requests per second.
 */
import { createHash } from 'node:crypto'
import { WRITE_KINDS, createWritePlanner } from './write-planner.ts'
import type { OwnNote, WriteExpectation, WriteKind } from './write-planner.ts'

export interface ReadMixEntry {
  name: string
  /** Relative weight; weights need not add up to 100. */
  weight: number
  query: string
  /**
   * Sent as is, except string values (at any depth) equal to a placeholder: "$noteId" and
   * "$userId" become a random collected id, "$viewerId" the id of the requesting user.
   */
  variables?: Record<string, unknown>
}

/** A write the generator plans per viewer (see write-planner.ts); its name says which. */
export interface WriteMixEntry {
  name: WriteKind
  weight: number
  write: true
}

export type MixEntry = ReadMixEntry | WriteMixEntry

export interface SeededUser {
  id: string
  token: string
  /** Notes this user owns at the start, for updateNote writes; absent = none known. */
  ownNotes?: OwnNote[]
}

/** What the setup phase collected through the API. */
export interface Fixtures {
  users: SeededUser[]
  userIds: string[]
  noteIds: string[]
}

export interface PlannedRequest {
  operationIndex: number
  userIndex: number
  body: string
  headers: Readonly<Record<string, string>>
  /** For writes: what the answer must say. */
  expect?: WriteExpectation
  /**
   * With `persistedQueries`: `body` names the document by its hash alone, and this is the same
   * request with the document, to send once the server answers PERSISTED_QUERY_NOT_FOUND.
   */
  documentBody?: string
}

export interface RequestMix {
  /** One per operation, in the order `PlannedRequest.operationIndex` refers to. */
  readonly operationNames: readonly string[]
  /** Planned share of each operation in percent, writes included. */
  readonly weights: ReadonlyArray<{ name: string, weight: number }>
  readonly userCount: number
  /** The planned share of writes, 0..1. */
  readonly writeShare: number
  /** The Zipf exponent of id popularity (0 = uniform). */
  readonly idSkew: number
  next (): PlannedRequest
  /**
   * Feeds a successful (HTTP 200, no errors) response body back. Reads pass; a write is
   * checked against what it asked for: returns null when it agrees, else the error type.
   */
  learn (planned: PlannedRequest, bodyText: string): string | null
  /** The first few writes whose answer disagreed with what they asked for. */
  readonly mismatches: ReadonlyArray<{ expected: WriteExpectation, answer: string }>
}

export interface RequestMixOptions {
  entries: readonly MixEntry[]
  fixtures: Fixtures
  /**
   * Adds createNote/updateNote writes (half each) as this fraction (0..1) of all requests,
   * scaling the entries down to the rest. Default 0. For a fuller write mix use writeMixEntries.
   */
  writeShare?: number
  /**
   * Popularity of the ids behind "$noteId" and "$userId": 0 (default) picks uniformly; s > 0
   * picks the k-th most popular id with probability ∝ 1/k^s (Zipf; s = 1 is the classic
   * web-traffic shape). Which id is popular is shuffled once, not tied to id order.
   */
  idSkew?: number
  /**
   * Automatic persisted queries: every request names its document by SHA-256 in
   * `extensions.persistedQuery` and carries the text only in `documentBody`, sent after a
   * PERSISTED_QUERY_NOT_FOUND. Default false: the text in every request.
   */
  persistedQueries?: boolean
  /** Injectable for deterministic tests. Default Math.random. */
  random?: () => number
}

/** The default read mix: list users, read a note with its author, read a user's notes with tags. */
export const defaultMixEntries: readonly ReadMixEntry[] = Object.freeze([
  { name: 'userList', weight: 30, query: 'query userList { users(first: 20) { id name } }' },
  { name: 'noteDetail', weight: 40, query: 'query noteDetail($id: ID!) { note(id: $id) { id title author { name } } }', variables: { id: '$noteId' } },
  { name: 'userNotes', weight: 30, query: 'query userNotes($id: ID!) { user(id: $id) { notes { id title tags { name } } } }', variables: { id: '$userId' } }
])

/**
 * The read/write mix (`--mix write`): 85 % the default reads in their proportions, 15 % writes —
 * createNote 5 %, updateNote 4 % (visibility flips and re-tags), deleteNote 1 %, updateUser 5 %.
 */
export const writeMixEntries: readonly MixEntry[] = Object.freeze([
  ...defaultMixEntries.map((entry) => ({ ...entry, weight: entry.weight * 0.85 })),
  { name: 'createNote', weight: 5, write: true },
  { name: 'updateNote', weight: 4, write: true },
  { name: 'deleteNote', weight: 1, write: true },
  { name: 'updateUser', weight: 5, write: true }
])

export function createRequestMix (options: RequestMixOptions): RequestMix {
  const { fixtures } = options
  const random = options.random ?? Math.random
  const idSkew = options.idSkew ?? 0
  const entries = withWriteShare(options.entries, options.writeShare ?? 0)
  validate(entries, fixtures, options.writeShare ?? 0, idSkew)

  const quotedNoteIds = shuffled(fixtures.noteIds.map((id) => JSON.stringify(id)), random)
  const quotedUserIds = shuffled(fixtures.userIds.map((id) => JSON.stringify(id)), random)
  const pickNoteIndex = createIndexPicker(quotedNoteIds.length, idSkew, random)
  const pickUserIndex = createIndexPicker(quotedUserIds.length, idSkew, random)
  const quotedViewerIds = fixtures.users.map((user) => JSON.stringify(user.id))
  const headersByUser = fixtures.users.map((user) => Object.freeze({
    'content-type': 'application/json',
    accept: 'application/json',
    authorization: `Bearer ${user.token}`
  }))
  const planner = createWritePlanner({ viewers: fixtures.users, random })
  const persistedQueries = options.persistedQueries ?? false
  const compiled = entries.map((entry) => 'write' in entry ? null : compileBody(entry, persistedQueries ? 'hash' : 'text'))
  const compiledWithDocument = entries.map((entry) => 'write' in entry || !persistedQueries ? null : compileBody(entry, 'both'))
  const operationNames = entries.map((entry) => entry.name)
  const createIndex = operationNames.indexOf('createNote')
  const totalWeight = entries.reduce((sum, entry) => sum + entry.weight, 0)
  const writeWeight = entries.reduce((sum, entry) => sum + ('write' in entry ? entry.weight : 0), 0)
  // Cumulative weights scaled to 0..1 so one random number picks an operation in a short scan.
  const cumulativeShare: number[] = []
  let runningWeight = 0
  for (const entry of entries) {
    runningWeight += entry.weight
    cumulativeShare.push(runningWeight / totalWeight)
  }

  function nextRead (operationIndex: number, userIndex: number, { segments, slots }: CompiledBody): PlannedRequest {
    const withDocument = compiledWithDocument[operationIndex]
    let body = segments[0]
    let documentBody = withDocument?.segments[0]
    for (let slot = 0; slot < slots.length; slot++) {
      const placeholder = slots[slot]
      const quotedId = placeholder === '$noteId'
        ? quotedNoteIds[pickNoteIndex()]
        : placeholder === '$userId' ? quotedUserIds[pickUserIndex()] : quotedViewerIds[userIndex]
      body += quotedId + segments[slot + 1]
      if (withDocument !== null) documentBody += quotedId + withDocument.segments[slot + 1]
    }
    const planned: PlannedRequest = { operationIndex, userIndex, body, headers: headersByUser[userIndex] }
    if (documentBody !== undefined) planned.documentBody = documentBody
    return planned
  }

  function nextWrite (kind: WriteKind, userIndex: number): PlannedRequest {
    const write = planner.plan(kind, userIndex)
    // An update or delete with nothing to act on became a createNote: count it as one.
    const operationIndex = write.kind === kind ? operationNames.indexOf(kind) : createIndex
    const planned: PlannedRequest = { operationIndex, userIndex: write.viewerIndex, body: write.body, headers: headersByUser[write.viewerIndex], expect: write.expect }
    if (persistedQueries) {
      // Writes are planned per request (a few in a hundred): re-encoding their JSON is cheap.
      const { query, ...rest } = JSON.parse(write.body) as { query: string }
      const extensions = { persistedQuery: { version: 1, sha256Hash: sha256Hex(query) } }
      planned.body = JSON.stringify({ ...rest, extensions })
      planned.documentBody = JSON.stringify({ query, ...rest, extensions })
    }
    return planned
  }

  return {
    operationNames,
    weights: entries.map((entry) => ({ name: entry.name, weight: percent(entry.weight / totalWeight) })),
    userCount: fixtures.users.length,
    writeShare: writeWeight / totalWeight,
    idSkew,
    mismatches: planner.mismatches,
    next () {
      const userIndex = Math.floor(random() * fixtures.users.length)
      const roll = random()
      let operationIndex = 0
      while (operationIndex < cumulativeShare.length - 1 && roll >= cumulativeShare[operationIndex]) operationIndex++
      const body = compiled[operationIndex]
      return body === null ? nextWrite(operationNames[operationIndex] as WriteKind, userIndex) : nextRead(operationIndex, userIndex, body)
    },
    learn (planned, bodyText) {
      return planned.expect === undefined ? null : planner.judge(planned.userIndex, planned.expect, bodyText)
    }
  }
}

// Private:

const PLACEHOLDERS = new Set(['$noteId', '$userId', '$viewerId'])
type Placeholder = '$noteId' | '$userId' | '$viewerId'

interface CompiledBody {
  /** JSON text around the placeholders: segments.length === slots.length + 1. */
  segments: string[]
  slots: Placeholder[]
}

/** The SHA-256 of a document as automatic persisted queries name it: lowercase hex. */
export function sha256Hex (text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex')
}

/** text: `{query, variables}`; hash: `{variables, extensions}` naming the document; both: all three. */
function compileBody (entry: ReadMixEntry, form: 'text' | 'hash' | 'both'): CompiledBody {
  const slots: Placeholder[] = []
  const marker = (index: number): string => `\u0001placeholder-${index}\u0001`
  const replace = (value: unknown): unknown => {
    if (typeof value === 'string' && PLACEHOLDERS.has(value)) {
      slots.push(value as Placeholder)
      return marker(slots.length - 1)
    }
    if (Array.isArray(value)) return value.map(replace)
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, replace(inner)]))
    }
    return value
  }
  const variables = replace(entry.variables ?? {})
  const extensions = { persistedQuery: { version: 1, sha256Hash: sha256Hex(entry.query) } }
  let text = JSON.stringify(form === 'text' ? { query: entry.query, variables } : form === 'hash' ? { variables, extensions } : { query: entry.query, variables, extensions })
  const segments: string[] = []
  for (let index = 0; index < slots.length; index++) {
    const [before, after] = splitOnce(text, JSON.stringify(marker(index)))
    segments.push(before)
    text = after
  }
  segments.push(text)
  return { segments, slots }
}

function splitOnce (text: string, separator: string): [string, string] {
  const at = text.indexOf(separator)
  return [text.slice(0, at), text.slice(at + separator.length)]
}

/**
 * A picker of indexes 0..length-1: uniform for skew 0, else Zipf(skew) through a cumulative
 * table and a binary search (log n per pick, so the scheduler stays on time).
 */
export function createIndexPicker (length: number, skew: number, random: () => number): () => number {
  if (skew === 0 || length <= 1) return () => Math.floor(random() * length)
  const cumulative = new Float64Array(length)
  let total = 0
  for (let rank = 0; rank < length; rank++) cumulative[rank] = total += 1 / (rank + 1) ** skew
  return () => {
    const target = random() * total
    let low = 0
    let high = length - 1
    while (low < high) {
      const middle = (low + high) >>> 1
      if (cumulative[middle] > target) high = middle
      else low = middle + 1
    }
    return low
  }
}

function shuffled<T> (items: T[], random: () => number): T[] {
  for (let index = items.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1))
    ;[items[index], items[other]] = [items[other], items[index]]
  }
  return items
}

/** The entries with createNote/updateNote added as `writeShare` of all requests. */
function withWriteShare (entries: readonly MixEntry[], writeShare: number): readonly MixEntry[] {
  if (!(writeShare > 0)) return entries
  const total = entries.reduce((sum, entry) => sum + entry.weight, 0)
  const writeWeight = total * writeShare / (1 - writeShare) / 2
  return [...entries, { name: 'createNote', weight: writeWeight, write: true }, { name: 'updateNote', weight: writeWeight, write: true }]
}

function validate (entries: readonly MixEntry[], fixtures: Fixtures, writeShare: number, idSkew: number): void {
  if (entries.length === 0) throw new RangeError('the request mix needs at least one entry: []')
  if (!(idSkew >= 0 && idSkew <= 10)) throw new RangeError(`idSkew must be a number in [0, 10]: ${idSkew}`)
  if (!(writeShare >= 0 && writeShare < 1)) throw new RangeError(`writeShare must be in [0, 1): ${writeShare}`)
  if (fixtures.users.length === 0) throw new RangeError('the request mix needs at least one logged-in user: 0')
  const names = new Set<string>()
  for (const entry of entries) {
    if (names.has(entry.name)) {
      throw new RangeError(writeShare > 0 && (entry.name === 'createNote' || entry.name === 'updateNote')
        ? `mix entry ${entry.name} clashes with the writes that writeShare adds: ${writeShare}`
        : `mix entry names must be unique: ${entry.name}`)
    }
    names.add(entry.name)
    if (!(entry.weight > 0) || !Number.isFinite(entry.weight)) throw new RangeError(`mix entry ${entry.name}: weight must be a positive number: ${entry.weight}`)
    if ('write' in entry) {
      if (!WRITE_KINDS.includes(entry.name)) throw new RangeError(`mix entry ${entry.name}: a write must be one of ${WRITE_KINDS.join(', ')}: ${entry.name}`)
      continue
    }
    const variablesText = JSON.stringify(entry.variables ?? {})
    if (variablesText.includes('"$noteId"') && fixtures.noteIds.length === 0) throw new RangeError(`mix entry ${entry.name} uses $noteId but no note ids were collected: 0`)
    if (variablesText.includes('"$userId"') && fixtures.userIds.length === 0) throw new RangeError(`mix entry ${entry.name} uses $userId but no user ids were collected: 0`)
  }
  const writes = entries.filter((entry) => 'write' in entry).map((entry) => entry.name)
  if ((writes.includes('updateNote') || writes.includes('deleteNote')) && !writes.includes('createNote')) {
    // A viewer with no note to update or delete creates one instead, so the mix needs that entry.
    throw new RangeError(`a mix with updateNote or deleteNote writes needs a createNote write too: ${writes.join(', ')}`)
  }
}

function percent (fraction: number): number {
  return Math.round(fraction * 10_000) / 100
}
