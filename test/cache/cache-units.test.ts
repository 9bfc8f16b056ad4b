/** Unit tests of the cache's tricky cores: key canonicalization, TTL choice, the race tracker, the memory tier's bound. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { canonicalJson, responseCacheKey } from '../../src/responses/cache-key.ts'
import { createDocumentInfoCache } from '../../src/responses/document-info.ts'
import { createMemoryStore } from '../../src/responses/memory-store.ts'
import { createRaceTracker } from '../../src/changes/race-tracker.ts'
import { createTtlPolicy } from '../../src/responses/ttl-policy.ts'

const response = (bytes: number, tags: string[]) => ({ body: 'x'.repeat(bytes), etag: '"e"', tags, stampMs: 0 })

test('canonical variables: key order never matters, values and nesting do', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } }), canonicalJson({ a: { c: null, d: [1, { x: 1, y: 2 }] }, b: 1 }))
  assert.notEqual(canonicalJson({ a: [1, 2] }), canonicalJson({ a: [2, 1] }))
  assert.equal(canonicalJson({ a: undefined }), canonicalJson({}))
})

test('the key separates every part: operation name, variables, document', () => {
  const base = responseCacheKey('doc', 'Op', { id: '1' })
  assert.equal(base, responseCacheKey('doc', 'Op', { id: '1' }))
  for (const other of [responseCacheKey('doc', null, { id: '1' }), responseCacheKey('doc', 'Op', { id: '2' }), responseCacheKey('doc2', 'Op', { id: '1' })]) {
    assert.notEqual(other, base)
  }
})

test('document info: formatting-insensitive hash, operation types, unparsable text', () => {
  const documents = createDocumentInfoCache({ maxTokens: 1000 })
  const a = documents.infoOf('query Q { me { id } }')
  const b = documents.infoOf('# c\nquery Q {\n  me {\n    id\n  }\n}')
  assert.equal(a.hash, b.hash)
  assert.notEqual(a.hash, documents.infoOf('query Q { me { id name } }').hash)
  const mixed = documents.infoOf('query A { me { id } } mutation B { login(email: "", password: "") { token } }')
  assert.equal(documents.operationTypeOf(mixed, 'A'), 'query')
  assert.equal(documents.operationTypeOf(mixed, 'B'), 'mutation')
  assert.equal(documents.operationTypeOf(mixed, null), undefined)
  assert.equal(documents.infoOf('{ me { ').hash, undefined)
  assert.equal(documents.infoOf(`{ ${'a '.repeat(2000)} }`).hash, undefined, 'over maxTokens is not parsed')
})

test('TTL: the shortest among the entity types present; lists alone use the default', () => {
  const ttlOf = createTtlPolicy({ cacheTtlMs: 60_000, cacheTtlByType: { User: 30_000, Tag: 120_000 } })
  assert.equal(ttlOf(['notes', 'notes@author:1']), 60_000)
  assert.equal(ttlOf(['Tag:1', 'tags']), 120_000, 'a type\'s own TTL applies even when longer than the default')
  assert.equal(ttlOf(['Tag:1', 'Note:1']), 60_000, 'Note has no TTL of its own: the default')
  assert.equal(ttlOf(['Note:1', 'User:2', 'Tag:3']), 30_000)
  assert.equal(createTtlPolicy({ cacheTtlMs: 60_000, cacheTtlByType: { Note: 0 } })(['User:1', 'Note:9']), 0)
})

test('race tracker: a store after an invalidation of one of its tags is refused; others are not', () => {
  const tracker = createRaceTracker({ clockSkewMs: 0, retentionMs: 60_000 })
  const before = tracker.ticket()
  tracker.invalidate(['Note:1'])
  assert.equal(tracker.accepts(['Note:1', 'notes'], before), false)
  assert.equal(tracker.accepts(['Note:2'], before), true)
  assert.equal(tracker.accepts(['Note:1'], tracker.ticket()), true, 'a ticket taken after the invalidation is fine')
  const ticket = tracker.ticket()
  tracker.clear('bus-lost')
  assert.equal(tracker.accepts([], ticket), false, 'a clear refuses every store that started before it')
})

test('race tracker: a shared entry is current only if stamped after every invalidation of its tags, by more than the clock skew', () => {
  let now = 1_000_000
  const tracker = createRaceTracker({ clockSkewMs: 100, retentionMs: 60_000, now: () => now })
  tracker.invalidate(['Note:1'])
  assert.equal(tracker.isCurrent(['Note:1'], now - 1), false, 'stamped before the invalidation')
  assert.equal(tracker.isCurrent(['Note:1'], now + 100), false, 'within the skew: the other clock may be ahead')
  assert.equal(tracker.isCurrent(['Note:1'], now + 101), true, 'past the skew')
  assert.equal(tracker.isCurrent(['Note:2'], now - 5000), true, 'another tag')
  now += 10
  tracker.clear('bus-lost')
  assert.equal(tracker.isCurrent(['Note:2'], now - 1), false, 'a clear makes every older entry unusable here')
  assert.equal(tracker.isCurrent(['Note:2'], now + 101), true)
})

test('race tracker: records older than the retention are forgotten; past maxTrackedTags everything is refused', () => {
  let now = 0
  const tracker = createRaceTracker({ clockSkewMs: 0, retentionMs: 1000, maxTrackedTags: 3, now: () => now })
  tracker.invalidate(['a', 'b'])
  now = 2000
  tracker.invalidate(['c'])
  assert.equal(tracker.trackedTags, 1, 'a and b outlived every entry they could refuse')
  const ticket = tracker.ticket()
  tracker.invalidate(['d', 'e', 'f'])
  assert.equal(tracker.accepts(['z'], ticket), false, 'over the bound: records forgotten, so every store in flight is refused')
  assert.equal(tracker.trackedTags, 0)
})

test('memory tier: invalidation drops every entry carrying the tag, and only those; clear drops all', () => {
  const store = createMemoryStore({ maxBytes: 1_000_000 })
  store.store('a', response(10, ['Note:1', 'notes']), 10_000)
  store.store('b', response(10, ['Note:2']), 10_000)
  assert.equal(store.invalidate(['notes']), 1, 'it says how many entries it dropped')
  assert.equal(store.invalidate(['notes', 'Note:1']), 0, 'a tag whose entries are gone drops nothing')
  assert.equal(store.lookup('a'), undefined)
  assert.equal(store.responseOf('a'), undefined)
  assert.ok(store.lookup('b'))
  assert.equal(store.responseOf('b'), store.lookup('b')?.response, 'the hit path\'s read: the same response')
  store.clear()
  assert.equal(store.lookup('b'), undefined)
  assert.equal(store.responseOf('b'), undefined)
  store.close()
})

test('memory tier: an entry stored again under new tags answers only to its new tags', () => {
  const store = createMemoryStore({ maxBytes: 1_000_000 })
  store.store('list', response(10, ['Note:1', 'notes']), 10_000)
  store.store('list', response(10, ['Note:2', 'notes']), 10_000)
  store.invalidate(['Note:1'])
  assert.ok(store.lookup('list'), 'a tag the entry no longer carries must not drop it')
  store.invalidate(['Note:2'])
  assert.equal(store.lookup('list'), undefined)
  store.close()
})

test('memory tier: expired entries are swept out without being touched; with the sweep off they stay until touched', async () => {
  const swept = createMemoryStore({ maxBytes: 1_000_000, sweepIntervalMs: 20 })
  const kept = createMemoryStore({ maxBytes: 1_000_000, sweepIntervalMs: 0 })
  try {
    for (const store of [swept, kept]) {
      for (let index = 0; index < 100; index++) store.store(`short-${index}`, response(100, [`Note:${index}`]), 10)
      store.store('long', response(100, ['Note:long']), 60_000)
    }
    await new Promise((resolve) => setTimeout(resolve, 120))
    assert.equal(swept.size, 1, 'only the live entry is left')
    assert.ok(swept.bytes < 1000, `bytes held: ${swept.bytes}`)
    assert.ok(swept.lookup('long'))
    assert.equal(kept.size, 101, 'without the sweep the expired entries still count against the bound')
    assert.equal(kept.lookup('short-0'), undefined, 'though a touch never returns one')
  } finally {
    swept.close()
    kept.close()
  }
})

test('memory tier: a body is counted in UTF-8 bytes, not characters', () => {
  // 'é' is two bytes in UTF-8: 40,000 of them are 80,000 bytes, over a bound of 60,000.
  const store = createMemoryStore({ maxBytes: 60_000, sweepIntervalMs: 0 })
  assert.equal(store.store('wide', { body: 'é'.repeat(40_000), etag: '"w"', tags: [], stampMs: 0 }, 10_000), false)
  assert.equal(store.store('narrow', { body: 'e'.repeat(40_000), etag: '"n"', tags: [], stampMs: 0 }, 10_000), true)
  assert.ok(store.bytes >= 40_000 && store.bytes < 60_000)
  store.close()
})

test('memory tier: bounded in bytes under a flood of distinct large entries', () => {
  let evictions = 0
  const maxBytes = 100_000
  const store = createMemoryStore({ maxBytes, onEvict: () => evictions++ })
  for (let i = 0; i < 1000; i++) {
    store.store(`key${i}`, response(5_000 + (i % 7) * 100, [`Note:${i}`]), 60_000)
    assert.ok(store.bytes <= maxBytes)
  }
  assert.ok(evictions > 900)
  assert.ok(store.lookup('key999'))
  assert.equal(store.store('huge', response(maxBytes * 2, []), 60_000), false)
})
