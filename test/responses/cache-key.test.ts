/**
 * The cache key's canonical JSON: the same text as the straightforward recursive definition
 * for any JSON value (it is the cache key: a change would orphan every entry), and no stack
 * overflow at any depth (the variables come from a client); the memo of keys without
 * variables gives exactly the computed key.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { anonymousViewer, userViewer } from '../../src/viewer.ts'
import { canonicalJson, createResponseCacheKeyOf, responseCacheKey, variantKeyOf } from '../../src/responses/cache-key.ts'

function recursiveCanonicalJson (value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  if (Array.isArray(value)) return `[${value.map(recursiveCanonicalJson).join(',')}]`
  const record = value as Record<string, unknown>
  const keys = Object.keys(record).filter((key) => record[key] !== undefined).sort()
  return `{${keys.map((key) => `${JSON.stringify(key)}:${recursiveCanonicalJson(record[key])}`).join(',')}}`
}

test('the same text as the recursive definition, for any JSON value', () => {
  fc.assert(fc.property(fc.jsonValue(), (value) => canonicalJson(value) === recursiveCanonicalJson(value)), { numRuns: 3000 })
  assert.equal(canonicalJson({ b: [1, { z: undefined, y: 'é', a: [] }], a: null, c: undefined }), '{"a":null,"b":[1,{"a":[],"y":"é"}]}')
  assert.equal(responseCacheKey('d', null, { b: 1, a: 2 }), responseCacheKey('d', null, { a: 2, b: 1 }))
  // No variables, in every form a client can send them, is one key (the short cut for `{}`).
  assert.equal(canonicalJson({ a: undefined }), '{}')
  assert.equal(canonicalJson(Object.create({ inherited: 1 })), '{}')
  assert.equal(canonicalJson([]), '[]')
  const none = responseCacheKey('d', 'op', undefined)
  for (const variables of [null, {}, { a: undefined }]) assert.equal(responseCacheKey('d', 'op', variables), none)
  assert.notEqual(responseCacheKey('d', 'op', { a: null }), none)
  // Flat records, in order or not (JSON.stringify's short cut must write what the walk writes).
  const flat: unknown[] = [{ id: '7' }, { a: 1, b: 'x', c: true, d: null }, { b: 1, a: 2 }, { 10: 'ten', 9: 'nine' }, { 1: 'one', a: 'a' },
    { a: undefined, b: 1 }, { b: undefined, a: 1 }, { a: 1.5e300, b: -0, c: 'é"\\\n' }, { f: () => 1 }, { toJSON: () => 'x' },
    Object.assign(Object.create({ inherited: 1 }), { own: 2 })]
  for (const value of flat) assert.equal(canonicalJson(value), recursiveCanonicalJson(value), JSON.stringify(value))
})

test('100,000 levels deep: no stack overflow, the exact text', () => {
  let deep: unknown = 1
  for (let i = 0; i < 100_000; i++) deep = i % 2 === 0 ? { a: deep } : [deep]
  const text = canonicalJson(deep)
  assert.equal(text.length, 50_000 * '{"a":['.length + 1 + 50_000 * ']}'.length)
  assert.throws(() => recursiveCanonicalJson(deep), RangeError, 'the recursive form would have overflowed')
})

test('the remembered key is responseCacheKey\'s, per document and operation; variables bypass the memo', () => {
  const keyOf = createResponseCacheKeyOf()
  const [docA, docB] = [{}, {}]
  for (let round = 0; round < 2; round++) {
    for (const [document, hash] of [[docA, 'hashA'], [docB, 'hashB']] as const) {
      for (const operationName of [null, 'one']) {
        for (const variables of [undefined, null, {}, { a: undefined }, { id: '7' }]) {
          assert.equal(keyOf(document, hash, operationName, variables), responseCacheKey(hash, operationName, variables))
        }
      }
    }
  }
})

test('a variant key holds the questions and the viewer\'s answers: viewers who answer alike share it, others never do', () => {
  const alice = userViewer('1', 'user')
  const aliceAgain = userViewer('1', 'user') // a new users row: a new viewer object, the same answers
  const aliceAdmin = userViewer('1', 'admin')
  const bob = userViewer('2', 'user')
  const carol = userViewer('3', 'user')
  const admin = userViewer('9', 'admin')
  const seesAllOfOne = ['all:1']
  assert.equal(variantKeyOf('base', seesAllOfOne, bob), variantKeyOf('base', seesAllOfOne, carol), 'neither is user 1 nor an admin')
  assert.equal(variantKeyOf('base', seesAllOfOne, bob), variantKeyOf('base', seesAllOfOne, anonymousViewer))
  assert.equal(variantKeyOf('base', seesAllOfOne, alice), variantKeyOf('base', seesAllOfOne, admin), 'both see everything of user 1')
  assert.notEqual(variantKeyOf('base', seesAllOfOne, alice), variantKeyOf('base', seesAllOfOne, bob))
  assert.notEqual(variantKeyOf('base', seesAllOfOne, bob), variantKeyOf('other', seesAllOfOne, bob), 'another request')
  assert.notEqual(variantKeyOf('base', seesAllOfOne, bob), variantKeyOf('base', ['all:2'], carol), 'other questions, even answered alike')
  const everyone = [alice, aliceAgain, aliceAdmin, bob, carol, admin, anonymousViewer]
  const byScope = new Set(everyone.map((viewer) => variantKeyOf('base', ['scope'], viewer)))
  assert.equal(byScope.size, 6, 'asked who it is: one key per scope (alice twice is one)')
  assert.equal(new Set(everyone.map((viewer) => variantKeyOf('base', ['role'], viewer))).size, 3, 'asked the role: one per role')
  assert.equal(variantKeyOf('base', ['who-knows'], alice), undefined, 'a question this code does not ask: no viewer takes the entry')
})
