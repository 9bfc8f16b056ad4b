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
import { canonicalJson, createResponseCacheKeyOf, responseCacheKey } from '../../src/responses/cache-key.ts'

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
  assert.equal(responseCacheKey('d', null, { b: 1, a: 2 }, 's'), responseCacheKey('d', null, { a: 2, b: 1 }, 's'))
  // No variables, in every form a client can send them, is one key (the short cut for `{}`).
  assert.equal(canonicalJson({ a: undefined }), '{}')
  assert.equal(canonicalJson(Object.create({ inherited: 1 })), '{}')
  assert.equal(canonicalJson([]), '[]')
  const none = responseCacheKey('d', 'op', undefined, 's')
  for (const variables of [null, {}, { a: undefined }]) assert.equal(responseCacheKey('d', 'op', variables, 's'), none)
  assert.notEqual(responseCacheKey('d', 'op', { a: null }, 's'), none)
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

test('the remembered key is responseCacheKey\'s, per document, operation and viewer; variables bypass the memo', () => {
  const keyOf = createResponseCacheKeyOf()
  const [docA, docB] = [{}, {}]
  const alice = userViewer('1', 'user')
  const aliceAgain = userViewer('1', 'user') // a new users row: a new viewer object, the same scope
  const aliceAdmin = userViewer('1', 'admin')
  const bob = userViewer('2', 'user')
  for (let round = 0; round < 2; round++) {
    for (const viewer of [alice, aliceAgain, aliceAdmin, bob, anonymousViewer]) {
      for (const [document, hash] of [[docA, 'hashA'], [docB, 'hashB']] as const) {
        for (const operationName of [null, 'one']) {
          for (const variables of [undefined, null, {}, { a: undefined }, { id: '7' }]) {
            assert.equal(keyOf(document, hash, operationName, variables, viewer), responseCacheKey(hash, operationName, variables, viewer.scope))
          }
        }
      }
    }
  }
  const keys = [alice, aliceAdmin, bob, anonymousViewer].map((viewer) => keyOf(docA, 'hashA', 'one', undefined, viewer))
  assert.equal(new Set(keys).size, 4, 'every scope its own key')
  assert.equal(keyOf(docA, 'hashA', 'one', {}, aliceAgain), keys[0], 'a new viewer object of the same scope: the same key')
})
