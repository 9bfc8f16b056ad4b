/**
 * The verifier behind check:integrity (bench/load/read-verifier.ts, response-ledger.ts): true
 * answers pass, and every kind of wrong answer a desynchronised driver could produce is caught —
 * above all another request's answer, which is what rows of another statement look like.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { INTEGRITY_READS, integrityMixEntries } from '../../bench/load/integrity-mix.ts'
import { combineTruth, verifyReads } from '../../bench/load/read-verifier.ts'
import type { DatabaseSnapshot, ReadTruth } from '../../bench/load/read-verifier.ts'
import { createResponseLedger } from '../../bench/load/response-ledger.ts'
import type { RecordedRead } from '../../bench/load/response-ledger.ts'
import { createRequestMix } from '../../bench/load/request-mix.ts'
import type { PlannedRequest, RequestMix } from '../../bench/load/request-mix.ts'

// Users 1-3 (and 25, so ids compare as numbers: 3 < 25), notes 10-12 of user 1, 20 of user 2;
// note 30 was created by user 2 during the run and deleted before the end.
const before: DatabaseSnapshot = {
  users: new Map([['1', 'Ann'], ['2', 'Bob'], ['3', 'Cy'], ['25', 'Di']]),
  notes: new Map([['10', { authorId: '1', title: 'Note ten' }], ['11', { authorId: '1', title: 'Note eleven' }], ['12', { authorId: '1', title: 'Note twelve' }], ['20', { authorId: '2', title: 'Note twenty' }]]),
  tagNames: new Set(['alpha', 'beta'])
}
const after: DatabaseSnapshot = { ...before, users: new Map([...before.users, ['2', 'Bob Renamed']]), tagNames: new Set(['alpha', 'beta', 'gamma']) }
const truth: ReadTruth = combineTruth({
  before,
  after,
  namesAsked: new Map([['2', new Set(['Bob Renamed', 'Bob Timed Out'])]]),
  createdNotes: new Map([['30', { authorId: '2', title: 'load note 1' }]])
})

const note10 = { id: '10', title: 'Note ten', visibility: 'PUBLIC', author: { id: '1', name: 'Ann' }, tags: [{ name: 'alpha' }, { name: 'gamma' }] }
const note20 = { id: '20', title: 'Note twenty', visibility: 'PUBLIC', author: { id: '2', name: 'Bob' }, tags: [] }
const listedNote = (id: string, title: string, visibility = 'PUBLIC', authorId = '1'): object => ({ id, title, visibility, author: { id: authorId }, tags: [{ name: 'beta' }] })
const user1Notes = { id: '1', name: 'Ann', notes: [listedNote('10', 'Note ten'), listedNote('11', 'Note eleven'), listedNote('12', 'Note twelve')] }

describe('read verifier', () => {
  test('true answers agree: names old, new or asked for, notes deleted later in the run, a stranger\'s note answered null', () => {
    const verdict = verifyReads([
      read('noteDetail', '3', { id: '10' }, { note: note10 }),
      read('noteDetail', '2', { id: '20' }, { note: { ...note20, author: { id: '2', name: 'Bob Timed Out' } } }),
      read('noteDetail', '3', { id: '11' }, { note: null }),
      read('userNotes', '1', { id: '1' }, { user: { ...user1Notes, notes: [listedNote('10', 'Note ten', 'PRIVATE'), listedNote('11', 'Note eleven')] } }),
      read('userNotes', '3', { id: '2' }, { user: { id: '2', name: 'Bob Renamed', notes: [listedNote('20', 'Note twenty', 'PUBLIC', '2'), listedNote('30', 'load note 1', 'PUBLIC', '2')] } }),
      read('userList', '1', { after: '2' }, { users: [{ id: '3', name: 'Cy' }, { id: '25', name: 'Di' }] }),
      read('userList', '1', { after: null }, { users: [{ id: '1', name: 'Ann' }, { id: '2', name: 'Bob' }, { id: '3', name: 'Cy' }, { id: '25', name: 'Di' }] })
    ], truth)
    assert.deepEqual(verdict.examples, [])
    assert.equal(verdict.mismatches, 0)
    assert.equal(verdict.verified, 7)
    assert.deepEqual(verdict.byOperation, {
      noteDetail: { verified: 3, nullAnswers: 1, mismatches: 0 },
      userNotes: { verified: 2, nullAnswers: 0, mismatches: 0 },
      userList: { verified: 2, nullAnswers: 0, mismatches: 0 }
    })
  })

  const wrongAnswers: Array<[string, RecordedRead, RegExp]> = [
    ['another note than the one asked for', read('noteDetail', '3', { id: '11' }, { note: note10 }), /asked for note 11, got note 10/],
    ['another note\'s title', read('noteDetail', '3', { id: '10' }, { note: { ...note10, title: 'Note eleven' } }), /titled "Note eleven", not "Note ten"/],
    ['another author', read('noteDetail', '3', { id: '10' }, { note: { ...note10, author: { id: '2', name: 'Bob' } } }), /author "2", not 1/],
    ['an author name the user never had', read('noteDetail', '3', { id: '10' }, { note: { ...note10, author: { id: '1', name: 'Bob' } } }), /user 1 is named "Bob", which it never was/],
    ['a note that does not exist', read('noteDetail', '3', { id: '99' }, { note: { ...note10, id: '99' } }), /note 99 is no note of the database nor of this run/],
    ['a stranger\'s private note', read('noteDetail', '3', { id: '10' }, { note: { ...note10, visibility: 'PRIVATE' } }), /private note 10 of user 1 shown to user 3/],
    ['a tag that does not exist', read('noteDetail', '3', { id: '10' }, { note: { ...note10, tags: [{ name: 'Note ten' }] } }), /the tag "Note ten", which is no tag/],
    ['a tag twice', read('noteDetail', '3', { id: '10' }, { note: { ...note10, tags: [{ name: 'alpha' }, { name: 'alpha' }] } }), /a tag twice/],
    ['the viewer\'s own note answered null', read('noteDetail', '1', { id: '10' }, { note: null }), /note 10 of the viewer answered null/],
    ['another user than the one asked for', read('userNotes', '3', { id: '2' }, { user: user1Notes }), /asked for user 2, got user 1/],
    ['a user answered null', read('userNotes', '3', { id: '2' }, { user: null }), /user 2 answered null/],
    ['another author\'s note in a user\'s notes', read('userNotes', '1', { id: '1' }, { user: { ...user1Notes, notes: [listedNote('20', 'Note twenty', 'PUBLIC', '2')] } }), /note 20 of user 2 in the notes of user 1/],
    ['a user\'s notes out of order', read('userNotes', '1', { id: '1' }, { user: { ...user1Notes, notes: [listedNote('11', 'Note eleven'), listedNote('10', 'Note ten')] } }), /not in id order \(11 then 10\)/],
    ['a user\'s private note shown to a stranger', read('userNotes', '3', { id: '1' }, { user: { ...user1Notes, notes: [listedNote('10', 'Note ten', 'PRIVATE')] } }), /private note 10 of user 1 shown to user 3/],
    ['a user page missing a user', read('userList', '1', { after: null }, { users: [{ id: '1', name: 'Ann' }, { id: '3', name: 'Cy' }, { id: '25', name: 'Di' }] }), /expected ids 1,2,3,25, got 1,3,25/],
    ['a user page ignoring `after`', read('userList', '1', { after: '2' }, { users: [{ id: '1', name: 'Ann' }, { id: '2', name: 'Bob' }] }), /users after 2: expected ids 3,25/],
    ['a user page with a wrong name', read('userList', '1', { after: '3' }, { users: [{ id: '25', name: 'Cy' }] }), /user 25 is named "Cy"/],
    // What rows of another statement look like: the answer of another request.
    ['a userNotes answer to a noteDetail', read('noteDetail', '3', { id: '10' }, { user: user1Notes }), /a note that is not an object/],
    ['a noteDetail answer to a userList', read('userList', '1', { after: null }, { note: note10 }), /users is not a list/],
    ['a success that is not JSON', { ...read('userList', '1', { after: null }, {}), responseBody: '<html>' }, /not JSON/],
    ['a success without data', { ...read('userList', '1', { after: null }, {}), responseBody: '{"data":null}' }, /without data/],
    ['an operation it cannot check', read('somethingNew', '1', {}, { somethingNew: 1 }), /no check for the operation somethingNew/],
    ['wrong data in an answer that also has errors', read('noteDetail', '3', { id: '10' }, { note: { ...note10, title: 'x' } }, 'graphql TIMEOUT'), /titled "x"/]
  ]
  for (const [name, wrong, problem] of wrongAnswers) {
    test(`catches ${name}`, () => {
      const verdict = verifyReads([read('noteDetail', '3', { id: '10' }, { note: note10 }), wrong], truth)
      assert.equal(verdict.mismatches, 1, JSON.stringify(verdict.examples))
      assert.match(verdict.examples[0].problem, problem)
      assert.equal(verdict.byOperation[wrong.operation].mismatches, 1)
    })
  }

  test('an error answer with nothing but nulls is counted apart, neither verified nor wrong', () => {
    const verdict = verifyReads([
      read('noteDetail', '1', { id: '10' }, { note: null }, 'http 504 TIMEOUT'),
      { ...read('userList', '1', { after: null }, {}, 'http 504 TIMEOUT'), responseBody: '{"errors":[{"message":"The request ran out of time.","extensions":{"code":"TIMEOUT"}}]}' }
    ], truth)
    assert.deepEqual({ verified: verdict.verified, withoutData: verdict.withoutData, mismatches: verdict.mismatches }, { verified: 0, withoutData: 2, mismatches: 0 })
  })

  test('only the first five mismatches are kept as examples; all are counted', () => {
    const verdict = verifyReads(Array.from({ length: 8 }, () => read('noteDetail', '3', { id: '11' }, { note: note10 })), truth)
    assert.equal(verdict.mismatches, 8)
    assert.equal(verdict.examples.length, 5)
  })
})

describe('integrity mix and response ledger', () => {
  const users = [{ id: '1', token: 't1', ownNotes: [{ id: '10', visibility: 'PUBLIC' as const }] }, { id: '2', token: 't2' }]

  test('every read of the integrity mix has a check, and it keeps the write mix\'s shares', () => {
    const reads = integrityMixEntries.filter((entry) => !('write' in entry))
    assert.deepEqual(reads.map((entry) => entry.name).sort(), Object.keys(INTEGRITY_READS).sort())
    assert.ok(integrityMixEntries.filter((entry) => 'write' in entry).reduce((sum, entry) => sum + entry.weight, 0) >= 10)
  })

  test('notes renames when planned, created notes only when their answer agreed, reads with their viewer', () => {
    const mix = createRequestMix({ entries: integrityMixEntries, fixtures: { users, userIds: ['1', '2'], noteIds: ['10'] }, random: seededRandom(3) })
    const ledger = createResponseLedger(mix, users)
    const planned: PlannedRequest[] = Array.from({ length: 400 }, () => ledger.mix.next())
    const renames = planned.filter((request) => request.expect?.kind === 'updateUser')
    assert.ok(renames.length > 0)
    const namesPlanned = renames.filter((request) => request.expect!.userId === '2').map((request) => request.expect!.name)
    assert.deepEqual([...(ledger.namesAsked.get('2') ?? [])], namesPlanned, 'noted before any answer')

    const create = planned.find((request) => request.expect?.kind === 'createNote')!
    const answer = JSON.stringify({ data: { createNote: { id: '77' } } })
    ledger.onResponse(create, 504, answer, 'http 504 TIMEOUT')
    assert.equal(ledger.createdNotes.size, 0, 'a failed create is not a known note')
    ledger.onResponse(create, 200, answer, null)
    assert.deepEqual(ledger.createdNotes.get('77'), { authorId: create.expect!.authorId, title: create.expect!.title })

    const noteRead = planned.find((request) => mix.operationNames[request.operationIndex] === 'noteDetail')!
    ledger.onResponse(noteRead, 504, '{}', 'http 504 TIMEOUT')
    assert.deepEqual(ledger.reads, [{ operation: 'noteDetail', viewerId: users[noteRead.userIndex].id, requestBody: noteRead.body, statusCode: 504, responseBody: '{}', errorType: 'http 504 TIMEOUT' }])
    assert.equal(ledger.mix.mismatches, mix.mismatches, 'the write planner\'s mismatches stay visible')
  })

  test('the ledger\'s mix is the given mix, reads passed through unchanged', () => {
    const calls: string[] = []
    const fake = { operationNames: ['r'], next: () => { calls.push('next'); return { operationIndex: 0, userIndex: 0, body: 'b', headers: {} } } } as unknown as RequestMix
    const ledger = createResponseLedger(fake, users)
    assert.deepEqual(ledger.mix.next(), { operationIndex: 0, userIndex: 0, body: 'b', headers: {} })
    assert.deepEqual(calls, ['next'])
  })
})

// Helpers:

function read (operation: string, viewerId: string, variables: Record<string, unknown>, data: Record<string, unknown>, errorType: string | null = null): RecordedRead {
  const query = (INTEGRITY_READS as Record<string, string>)[operation] ?? `query ${operation} { x }`
  const body = errorType === null ? { data } : { data, errors: [{ message: 'The request ran out of time.', extensions: { code: 'TIMEOUT' } }] }
  return { operation, viewerId, requestBody: JSON.stringify({ query, variables }), statusCode: errorType === null ? 200 : 504, responseBody: JSON.stringify(body), errorType }
}

/** mulberry32: a tiny deterministic PRNG. */
function seededRandom (seed: number): () => number {
  let state = seed
  return () => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
