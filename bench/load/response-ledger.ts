/**
 * What check:integrity remembers of a load run, to check it against the database afterwards:
 * every read answer beside the question it answered, every name an updateUser asked for (a
 * rename that timed out may still have committed, so a read may show it), and the note each
 * successful createNote answered with (the write planner has checked its title and author; a
 * note deleted later in the run is known from here only).
 *
 * Bodies are kept as text and parsed only when verified, so the load generator stays on time;
 * a 15-second run at 300 req/s keeps a few MB.
 */
import type { ResponseObserver } from './in-flight-request.ts'
import type { RequestMix, SeededUser } from './request-mix.ts'

export interface RecordedRead {
  operation: string
  viewerId: string
  /** The request body as sent. */
  requestBody: string
  statusCode: number
  responseBody: string
  /** null for a success, else the error type the load counted. */
  errorType: string | null
}

export interface CreatedNote {
  authorId: string
  title: string
}

export interface ResponseLedger {
  /** The mix to run: the given one, noting each rename it plans. */
  readonly mix: RequestMix
  /** For runOpenModelLoad's onResponse. */
  readonly onResponse: ResponseObserver
  readonly reads: readonly RecordedRead[]
  /** User id → every name an updateUser of this run asked for. */
  readonly namesAsked: ReadonlyMap<string, ReadonlySet<string>>
  /** Note id → its author and title, for every createNote of this run that succeeded. */
  readonly createdNotes: ReadonlyMap<string, CreatedNote>
}

export function createResponseLedger (mix: RequestMix, users: readonly SeededUser[]): ResponseLedger {
  const reads: RecordedRead[] = []
  const namesAsked = new Map<string, Set<string>>()
  const createdNotes = new Map<string, CreatedNote>()

  const observedMix: RequestMix = {
    ...mix,
    next () {
      const planned = mix.next()
      const expect = planned.expect
      // Noted when planned, not when answered: a rename the client gave up on may have committed.
      if (expect?.kind === 'updateUser') {
        const names = namesAsked.get(expect.userId!) ?? new Set<string>()
        names.add(expect.name!)
        namesAsked.set(expect.userId!, names)
      }
      return planned
    }
  }

  const onResponse: ResponseObserver = (planned, statusCode, responseBody, errorType) => {
    const expect = planned.expect
    if (expect === undefined) {
      reads.push({ operation: mix.operationNames[planned.operationIndex], viewerId: users[planned.userIndex].id, requestBody: planned.body, statusCode, responseBody, errorType })
    } else if (expect.kind === 'createNote' && errorType === null) {
      // errorType null: the write planner found the answer agrees with what was asked.
      const id = String(JSON.parse(responseBody).data.createNote.id)
      createdNotes.set(id, { authorId: expect.authorId!, title: expect.title! })
    }
  }

  return { mix: observedMix, onResponse, reads, namesAsked, createdNotes }
}
