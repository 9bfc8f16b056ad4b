/**
 * What a change invalidates, from facts: the triggers' payload letters and a resolver's facts
 * give the same tags (one mapping, changes/database-changes.ts); a tag gaining or losing notes
 * drops the lists of its notes and its name's lookups, not every answer showing the tag; a
 * renamed or deleted tag drops those too; a renamed user drops the answers showing them, a
 * created or deleted one also the lookups of their id; anything unreadable drops everything.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { changeOf, tagsOfChange } from '../../src/changes/database-changes.ts'

test('the payload and the same facts from a resolver give the same tags', () => {
  const payload = { n: ['5'], a: ['7'], t: ['3'], m: ['red'], u: ['7'], l: ['notes', 'tags'], g: ['4'], e: ['8'], s: 1, x: '99' }
  const fromPayload = changeOf(JSON.stringify(payload))
  assert.deepEqual(fromPayload.tags, tagsOfChange({ notes: ['5'], authors: ['7'], tagIds: ['3'], tagNames: ['red'], users: ['7'], lists: ['notes', 'tags'], tagEntities: ['4'], usersCreatedOrGone: ['8'] }))
  assert.deepEqual(fromPayload.tags, ['Note:5', 'notes@author:7', 'notes@tag:3', 'Tag:4', 'tagName:red', 'User:7', 'userId:8', 'notes', 'tags'])
  assert.equal(fromPayload.commit, '99')
  assert.equal(fromPayload.madeAtMs, 1)
})

test('a tag whose notes changed drops its note lists only; a renamed one drops the tag too', () => {
  assert.deepEqual(tagsOfChange({ tagIds: ['3'] }), ['notes@tag:3'])
  assert.deepEqual(tagsOfChange({ tagEntities: ['3'] }), ['Tag:3'])
})

test('a renamed user drops the answers showing them; a created or deleted one also the lookups of their id', () => {
  assert.deepEqual(tagsOfChange({ users: ['7'] }), ['User:7'])
  assert.deepEqual(tagsOfChange({ users: ['7'], usersCreatedOrGone: ['7'], lists: ['users'] }), ['User:7', 'userId:7', 'users'])
})

test('anything unreadable drops everything', () => {
  for (const text of [undefined, '', 'not json', 'null', '42', JSON.stringify({ n: 'x' }), JSON.stringify({ g: [1] }), JSON.stringify({ e: '7' }), JSON.stringify({ all: true })]) {
    assert.equal(changeOf(text).tags, 'all', String(text))
  }
})
