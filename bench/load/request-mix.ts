/**
 * What each scheduled request asks: a seeded user (their own token, so a per-user response
 * cache is exercised honestly), an operation picked by weight, and real ids for its variables.
 *
 * Everything that can be is compiled at setup: each operation's JSON body is split around its
 * id placeholders once, ids are JSON-quoted once, each user's headers are built once. A request
 * then costs a few random numbers and one string concatenation, which keeps the scheduler on
 * time at thousands of requests per second.
 */

export interface MixEntry {
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

export interface SeededUser {
  id: string
  token: string
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
}

export interface RequestMix {
  /** One per operation, in the order `PlannedRequest.operationIndex` refers to. */
  readonly operationNames: readonly string[]
  /** Planned share of each operation in percent, writes included. */
  readonly weights: ReadonlyArray<{ name: string, weight: number }>
  readonly userCount: number
  readonly writeShare: number
  /** The Zipf exponent of id popularity (0 = uniform). */
  readonly idSkew: number
  next (): PlannedRequest
  /** Feeds a successful response body back; only createNote reads it (to update the note later). */
  learn (planned: PlannedRequest, bodyText: string): void
}

export interface RequestMixOptions {
  entries: readonly MixEntry[]
  fixtures: Fixtures
  /** Fraction of requests (0..1) that are createNote/updateNote writes, half each. Default 0. */
  writeShare?: number
  /**
   * Popularity of the ids behind "$noteId" and "$userId": 0 (default) picks uniformly; s > 0
   * picks the k-th most popular id with probability ∝ 1/k^s (Zipf; s = 1 is the classic
   * web-traffic shape). Which id is popular is shuffled once, not tied to id order.
   */
  idSkew?: number
  /** Injectable for deterministic tests. Default Math.random. */
  random?: () => number
}

/** The seed's mix: list users, read a note with its author, read a user's notes with tags. */
export const defaultMixEntries: readonly MixEntry[] = Object.freeze([
  { name: 'userList', weight: 30, query: 'query userList { users(first: 20) { id name } }' },
  { name: 'noteDetail', weight: 40, query: 'query noteDetail($id: ID!) { note(id: $id) { id title author { name } } }', variables: { id: '$noteId' } },
  { name: 'userNotes', weight: 30, query: 'query userNotes($id: ID!) { user(id: $id) { notes { id title tags { name } } } }', variables: { id: '$userId' } }
])

export const CREATE_NOTE_QUERY = 'mutation createNote($input: CreateNoteInput!) { createNote(input: $input) { id } }'
export const UPDATE_NOTE_QUERY = 'mutation updateNote($id: ID!, $input: UpdateNoteInput!) { updateNote(id: $id, input: $input) { id } }'

export function createRequestMix (options: RequestMixOptions): RequestMix {
  const { entries, fixtures } = options
  const writeShare = options.writeShare ?? 0
  const random = options.random ?? Math.random
  const idSkew = options.idSkew ?? 0
  validate(entries, fixtures, writeShare, idSkew)

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
  const reads = entries.map((entry) => compileBody(entry))
  const totalReadWeight = entries.reduce((sum, entry) => sum + entry.weight, 0)
  // Cumulative weights scaled to 0..1 so one random number picks a read in a short scan.
  const cumulativeReadShare: number[] = []
  let runningWeight = 0
  for (const entry of entries) {
    runningWeight += entry.weight
    cumulativeReadShare.push(runningWeight / totalReadWeight)
  }

  const createIndex = entries.length
  const updateIndex = entries.length + 1
  const createdNotesByUser: string[][] = fixtures.users.map(() => [])
  let writeCounter = 0

  const operationNames = writeShare > 0
    ? [...entries.map((entry) => entry.name), 'createNote', 'updateNote']
    : entries.map((entry) => entry.name)
  const weights = entries.map((entry) => ({ name: entry.name, weight: percent(entry.weight / totalReadWeight * (1 - writeShare)) }))
  if (writeShare > 0) weights.push({ name: 'createNote', weight: percent(writeShare / 2) }, { name: 'updateNote', weight: percent(writeShare / 2) })

  function pickIndex (length: number): number {
    return Math.floor(random() * length)
  }

  function nextRead (userIndex: number): PlannedRequest {
    const roll = random()
    let operationIndex = 0
    while (operationIndex < cumulativeReadShare.length - 1 && roll >= cumulativeReadShare[operationIndex]) operationIndex++
    const { segments, slots } = reads[operationIndex]
    let body = segments[0]
    for (let slot = 0; slot < slots.length; slot++) {
      const placeholder = slots[slot]
      const quotedId = placeholder === '$noteId'
        ? quotedNoteIds[pickNoteIndex()]
        : placeholder === '$userId' ? quotedUserIds[pickUserIndex()] : quotedViewerIds[userIndex]
      body += quotedId + segments[slot + 1]
    }
    return { operationIndex, userIndex, body, headers: headersByUser[userIndex] }
  }

  function nextWrite (userIndex: number): PlannedRequest {
    const created = createdNotesByUser[userIndex]
    const serial = ++writeCounter
    // Update only a note this user created in this run: it exists and the viewer owns it.
    if (random() < 0.5 && created.length > 0) {
      const id = created[pickIndex(created.length)]
      const variables = { id, input: { title: `load update ${serial}`, body: `updated by the load generator (${serial})` } }
      return { operationIndex: updateIndex, userIndex, body: JSON.stringify({ query: UPDATE_NOTE_QUERY, variables }), headers: headersByUser[userIndex] }
    }
    const input = {
      title: `load note ${serial}`,
      body: `written by the load generator (${serial})`,
      visibility: random() < 0.5 ? 'PUBLIC' : 'PRIVATE',
      tags: random() < 0.5 ? ['load'] : ['load', `bench-${serial % 10}`]
    }
    return { operationIndex: createIndex, userIndex, body: JSON.stringify({ query: CREATE_NOTE_QUERY, variables: { input } }), headers: headersByUser[userIndex] }
  }

  return {
    operationNames,
    weights,
    userCount: fixtures.users.length,
    writeShare,
    idSkew,
    next () {
      const userIndex = pickIndex(fixtures.users.length)
      return writeShare > 0 && random() < writeShare ? nextWrite(userIndex) : nextRead(userIndex)
    },
    learn (planned, bodyText) {
      if (planned.operationIndex !== createIndex || writeShare === 0) return
      const id = createdNoteId(bodyText)
      if (id === undefined) return
      const created = createdNotesByUser[planned.userIndex]
      // A few notes per user are plenty to update; keep memory flat on long soaks.
      if (created.length < MAX_CREATED_NOTES_PER_USER) created.push(id)
      else created[pickIndex(created.length)] = id
    }
  }
}

// Private:

const MAX_CREATED_NOTES_PER_USER = 16
const PLACEHOLDERS = new Set(['$noteId', '$userId', '$viewerId'])
type Placeholder = '$noteId' | '$userId' | '$viewerId'

interface CompiledBody {
  /** JSON text around the placeholders: segments.length === slots.length + 1. */
  segments: string[]
  slots: Placeholder[]
}

function compileBody (entry: MixEntry): CompiledBody {
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
  let text = JSON.stringify({ query: entry.query, variables })
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

function validate (entries: readonly MixEntry[], fixtures: Fixtures, writeShare: number, idSkew: number): void {
  if (entries.length === 0) throw new RangeError('the request mix needs at least one entry: []')
  if (!(idSkew >= 0 && idSkew <= 10)) throw new RangeError(`idSkew must be a number in [0, 10]: ${idSkew}`)
  if (!(writeShare >= 0 && writeShare < 1)) throw new RangeError(`writeShare must be in [0, 1): ${writeShare}`)
  if (fixtures.users.length === 0) throw new RangeError('the request mix needs at least one logged-in user: 0')
  const names = new Set<string>()
  for (const entry of entries) {
    if (names.has(entry.name)) throw new RangeError(`mix entry names must be unique: ${entry.name}`)
    names.add(entry.name)
    if (writeShare > 0 && (entry.name === 'createNote' || entry.name === 'updateNote')) throw new RangeError(`mix entry ${entry.name} clashes with the writes that writeShare adds: ${writeShare}`)
    if (!(entry.weight > 0) || !Number.isFinite(entry.weight)) throw new RangeError(`mix entry ${entry.name}: weight must be a positive number: ${entry.weight}`)
    const variablesText = JSON.stringify(entry.variables ?? {})
    if (variablesText.includes('"$noteId"') && fixtures.noteIds.length === 0) throw new RangeError(`mix entry ${entry.name} uses $noteId but no note ids were collected: 0`)
    if (variablesText.includes('"$userId"') && fixtures.userIds.length === 0) throw new RangeError(`mix entry ${entry.name} uses $userId but no user ids were collected: 0`)
  }
}

function createdNoteId (bodyText: string): string | undefined {
  try {
    const id: unknown = JSON.parse(bodyText)?.data?.createNote?.id
    return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined
  } catch {
    return undefined
  }
}

function percent (fraction: number): number {
  return Math.round(fraction * 10_000) / 100
}
