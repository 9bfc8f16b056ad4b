/**
 * The write mix (bench/load/write-planner.ts, request-mix.ts, mix-file.ts): every planned
 * write is legal (own notes only, deletes never repeated nor raced by updates), its tags
 * overlap in varied order, and an answer that disagrees with what was asked is a failure.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import {
  createRequestMix, createWritePlanner, defaultMixEntries, parseMixEntries, pickTags, resolveMix, WRITE_TAGS, writeMixEntries
} from '../../bench/load/index.ts'
import type { Fixtures, PlannedWrite, WriteExpectation } from '../../bench/load/index.ts'

describe('write planner', () => {
  test('createNote: 2 or 3 distinct tags of the small set, in varied order, both sizes and many orders', () => {
    const random = seededRandom(1)
    const orders = new Set<string>()
    const sizes = new Set<number>()
    for (let index = 0; index < 500; index++) {
      const tags = pickTags(random)
      assert.ok(tags.length === 2 || tags.length === 3, `size ${tags.length}`)
      assert.equal(new Set(tags).size, tags.length)
      for (const tag of tags) assert.ok(WRITE_TAGS.includes(tag))
      orders.add(tags.join(','))
      sizes.add(tags.length)
    }
    assert.deepEqual([...sizes].sort(), [2, 3])
    assert.ok(orders.size > 20, `orders seen: ${orders.size}`)
  })

  test('updates only the viewer\'s own notes: visibility flips back and forth, re-tags', () => {
    const planner = createWritePlanner({ viewers: [{ id: 'u1', ownNotes: [{ id: 'n1', visibility: 'PUBLIC' }] }, { id: 'u2', ownNotes: [{ id: 'n2', visibility: 'PRIVATE' }] }], random: seededRandom(2) })
    const visibilities: string[] = []
    let retags = 0
    for (let index = 0; index < 200; index++) {
      const write = planner.plan('updateNote', 0)
      assert.equal(write.kind, 'updateNote')
      assert.equal(write.viewerIndex, 0)
      const { variables } = JSON.parse(write.body)
      assert.equal(variables.id, 'n1')
      if (variables.input.visibility !== undefined) visibilities.push(variables.input.visibility)
      else {
        assert.ok(variables.input.tags.length >= 2)
        assert.deepEqual(write.expect.tags, [...variables.input.tags].sort())
        retags++
      }
    }
    assert.ok(retags > 50 && visibilities.length > 50)
    assert.deepEqual(visibilities.slice(0, 4), ['PRIVATE', 'PUBLIC', 'PRIVATE', 'PUBLIC'], 'each flip flips the last one')
  })

  test('deletes only notes the run created, each once, never one that updates may pick; moves a delete to a viewer who has one', () => {
    const planner = createWritePlanner({ viewers: [{ id: 'u1' }, { id: 'u2' }, { id: 'u3' }], random: seededRandom(3) })
    assert.equal(planner.plan('deleteNote', 0).kind, 'createNote', 'nothing to delete yet: creates instead')
    assert.equal(planner.plan('updateNote', 0).kind, 'createNote', 'no own note yet: creates instead')
    const created = new Map<string, number>()
    for (let index = 0; index < 20; index++) {
      const viewer = index % 2 // viewers 0 and 1 create; 2 never does
      const write = planner.plan('createNote', viewer)
      const id = `c${index}`
      created.set(id, viewer)
      assert.equal(planner.judge(viewer, write.expect, answerOf(write, id)), null)
    }
    const deleted = new Set<string>()
    const updated = new Set<string>()
    for (let index = 0; index < 40; index++) {
      const write = planner.plan('deleteNote', 2)
      if (write.kind === 'createNote') break
      const { id } = JSON.parse(write.body).variables
      assert.equal(created.get(id), write.viewerIndex, 'a delete is sent by the note\'s creator')
      assert.ok(!deleted.has(id), `deleted twice: ${id}`)
      deleted.add(id)
    }
    for (let index = 0; index < 200; index++) {
      const write = planner.plan('updateNote', index % 2)
      if (write.kind === 'updateNote') updated.add(JSON.parse(write.body).variables.id)
    }
    assert.equal(deleted.size, 10, 'every other created note is for deleting')
    assert.equal(updated.size, 10, 'the others are for updating')
    assert.deepEqual([...deleted].filter((id) => updated.has(id)), [], 'no note is both updated and deleted')
    assert.equal(planner.plan('deleteNote', 2).kind, 'createNote', 'all deleted: creates instead')
  })

  test('judge accepts the answer that says what was asked and counts every disagreement', () => {
    const planner = createWritePlanner({ viewers: [{ id: 'u1', ownNotes: [{ id: 'n1', visibility: 'PUBLIC' }] }], random: seededRandom(4) })
    const rename = planner.plan('updateUser', 0)
    assert.equal(planner.judge(0, rename.expect, answerOf(rename, 'u1')), null)
    assert.equal(planner.judge(0, rename.expect, JSON.stringify({ data: { updateUser: { id: 'u1', name: 'someone else' } } })), 'mismatch updateUser')
    assert.equal(planner.judge(0, rename.expect, JSON.stringify({ data: { updateUser: { id: 'u9', name: rename.expect.name } } })), 'mismatch updateUser')
    const create = planner.plan('createNote', 0)
    assert.equal(create.expect.authorId, 'u1')
    assert.equal(create.expect.title, JSON.parse(create.body).variables.input.title)
    const created = JSON.parse(answerOf(create, 'n5')).data.createNote
    assert.equal(planner.judge(0, create.expect, JSON.stringify({ data: { createNote: created } })), null)
    assert.equal(planner.judge(0, create.expect, JSON.stringify({ data: { createNote: { ...created, tags: [{ name: 'alpha' }] } } })), 'mismatch createNote')
    assert.equal(planner.judge(0, create.expect, JSON.stringify({ data: { createNote: { ...created, title: 'Seed note 3.4' } } })), 'mismatch createNote')
    assert.equal(planner.judge(0, create.expect, JSON.stringify({ data: { createNote: { ...created, author: { id: 'u2' } } } })), 'mismatch createNote')
    assert.equal(planner.judge(0, create.expect, JSON.stringify({ data: { createNote: null } })), 'mismatch createNote')
    assert.equal(planner.judge(0, create.expect, 'not json'), 'mismatch createNote')
    const remove: WriteExpectation = { kind: 'deleteNote', noteId: 'n7' }
    assert.equal(planner.judge(0, remove, JSON.stringify({ data: { deleteNote: 'n7' } })), null)
    assert.equal(planner.judge(0, remove, JSON.stringify({ data: { deleteNote: 'n8' } })), 'mismatch deleteNote')
    assert.equal(planner.mismatches.length, 5, 'only the first five are kept')
    assert.match(planner.mismatches[0].answer, /someone else/)
  })
})

describe('write mix', () => {
  const fixtures: Fixtures = {
    users: Array.from({ length: 20 }, (_, index) => ({ id: `u${index}`, token: `token-${index}`, ownNotes: [{ id: `n${index}`, visibility: 'PUBLIC' as const }] })),
    userIds: ['u1', 'u2'],
    noteIds: ['n1', 'n2']
  }

  test('at least 10 % writes, each in its planned share once notes exist, sent with its viewer\'s token', () => {
    const mix = createRequestMix({ entries: writeMixEntries, fixtures, random: seededRandom(5) })
    assert.ok(mix.writeShare >= 0.1, `write share ${mix.writeShare}`)
    const total = 40_000
    const counts = new Map<string, number>()
    for (let index = 0; index < total; index++) {
      const planned = mix.next()
      const name = mix.operationNames[planned.operationIndex]
      counts.set(name, (counts.get(name) ?? 0) + 1)
      assert.equal(planned.headers.authorization, `Bearer token-${planned.userIndex}`)
      if (planned.expect === undefined) continue
      assert.equal(planned.expect.kind, name)
      if (name === 'createNote') {
        const { input } = JSON.parse(planned.body).variables
        const answer = { id: `created-${index}`, title: input.title, visibility: input.visibility, author: { id: fixtures.users[planned.userIndex].id }, tags: input.tags.map((tag: string) => ({ name: tag })) }
        assert.equal(mix.learn(planned, JSON.stringify({ data: { createNote: answer } })), null)
      }
    }
    for (const { name, weight } of mix.weights) {
      const share = (counts.get(name) ?? 0) / total * 100
      // deleteNote starts as createNote until the first created note is back.
      assert.ok(Math.abs(share - weight) < 0.6, `${name}: ${share.toFixed(2)} % vs ${weight} %`)
    }
    assert.equal(mix.learn({ operationIndex: 0, userIndex: 0, body: '', headers: {} }, 'anything'), null, 'reads are not judged')
  })

  test('a mix with deletes or updates but no createNote is refused; so is an unknown write', () => {
    assert.throws(() => createRequestMix({ entries: [...defaultMixEntries, { name: 'deleteNote', weight: 1, write: true }], fixtures }), /needs a createNote write too: deleteNote/)
    assert.throws(() => createRequestMix({ entries: [{ name: 'dropTable' as 'createNote', weight: 1, write: true }], fixtures }), /a write must be one of createNote, updateNote, deleteNote, updateUser: dropTable/)
    assert.throws(() => createRequestMix({ entries: writeMixEntries, fixtures, writeShare: 0.1 }), /mix entry createNote clashes with the writes that writeShare adds/)
  })

  test('--mix: built-in "read" and "write", a file with generated writes, and errors that name the entry', async () => {
    assert.equal(await resolveMix(undefined), defaultMixEntries)
    assert.equal(await resolveMix('read'), defaultMixEntries)
    assert.equal(await resolveMix('write'), writeMixEntries)
    const dir = await mkdtemp(join(tmpdir(), 'mix-file-'))
    try {
      const file = join(dir, 'mix.json')
      await writeFile(file, JSON.stringify([{ name: 'me', weight: 9, query: 'query me { me { id } }' }, { name: 'updateUser', weight: 1, write: true }]))
      assert.deepEqual(await resolveMix(file), [{ name: 'me', weight: 9, query: 'query me { me { id } }' }, { name: 'updateUser', weight: 1, write: true }])
      await assert.rejects(resolveMix(join(dir, 'missing.json')), /must be readable JSON \(or a built-in mix: read, write\)/)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
    assert.throws(() => parseMixEntries([{ name: 'dropTable', weight: 1, write: true }], 'm'), /m: entry 0: a write's name must be one of createNote/)
    assert.throws(() => parseMixEntries([{ name: 'createNote', weight: 1, write: 'yes' }], 'm'), /write must be true or absent: "yes"/)
    assert.throws(() => parseMixEntries([{ name: 'createNote', weight: 1, write: true, query: 'q' }], 'm'), /a write is generated, it takes no query/)
  })
})

// Helpers:

/** What a correct server answers to a planned write, with `id` for the note or user. */
function answerOf (write: PlannedWrite, id: string): string {
  const expect = write.expect
  if (expect.kind === 'deleteNote') return JSON.stringify({ data: { deleteNote: expect.noteId } })
  const author = expect.authorId === undefined ? undefined : { id: expect.authorId }
  const data = { id: expect.noteId ?? expect.userId ?? id, visibility: expect.visibility, name: expect.name, title: expect.title, author, tags: expect.tags?.map((name) => ({ name })) }
  return JSON.stringify({ data: { [expect.kind]: data } })
}

/** mulberry32: a tiny deterministic PRNG, so share tests cannot flake. */
function seededRandom (seed: number): () => number {
  let state = seed
  return () => {
    state = (state + 0x6D2B79F5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
