/**
 * Cached entries keep the tag index's one string per tag, not the strings each response built
 * afresh: storing entries whose tags were built per entry must cost the heap what storing
 * entries that share their tag strings costs. Without interning the first costs ~24 bytes
 * more per tag and entry (a string object each), here ~50 % more heap per entry.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { getHeapStatistics, setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { createMemoryStore } from '../../src/responses/memory-store.ts'
import { createRowCache } from '../../src/rows/row-cache.ts'
import { createRaceTracker } from '../../src/changes/race-tracker.ts'
import type { InvalidationBus } from '../../src/changes/invalidation-bus.ts'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

const ENTRIES = 4000
const TAGS_PER_ENTRY = 20
const DISTINCT = 200
const shared = Array.from({ length: DISTINCT }, (_, i) => `Note:${1000 + i}`)
/** A tag string made now, as a resolver makes it per request: equal to shared[i], not the same object. */
const fresh = (i: number): string => `Note:${1000 + Number(String(i))}`

function usedHeap (): number {
  gc()
  gc()
  return getHeapStatistics().used_heap_size
}

/** Heap bytes per entry kept by `fill` (which stores ENTRIES entries). */
function bytesPerEntry (fill: (tagsOf: (entry: number) => string[]) => unknown, tagsOf: (entry: number) => string[]): number {
  const before = usedHeap()
  const kept = fill(tagsOf)
  const after = usedHeap()
  assert.ok(kept !== undefined)
  return (after - before) / ENTRIES
}

const sharedTags = (entry: number): string[] => Array.from({ length: TAGS_PER_ENTRY }, (_, j) => shared[(entry * 7 + j) % DISTINCT])
const freshTags = (entry: number): string[] => Array.from({ length: TAGS_PER_ENTRY }, (_, j) => fresh((entry * 7 + j) % DISTINCT))

test('the memory tier keeps one string per tag, however many responses carry it', () => {
  const fillStore = (tagsOf: (entry: number) => string[]) => {
    const store = createMemoryStore({ maxBytes: 1 << 30, sweepIntervalMs: 0 })
    for (let entry = 0; entry < ENTRIES; entry++) {
      store.store(`key-${entry}`, { body: `{"data":${entry}}`, etag: `"e${entry}"`, tags: tagsOf(entry), stampMs: 0 }, 60_000)
    }
    assert.equal(store.size, ENTRIES)
    return store
  }
  fillStore(sharedTags) // warm-up: code and shapes, not counted
  const withShared = bytesPerEntry(fillStore, sharedTags)
  const withFresh = bytesPerEntry(fillStore, freshTags)
  // Interned, the two cost the same (ratios 0.99-1.07 measured alone; 1.17 once in a full
  // run); without interning fresh strings cost ~50 % more. 1.25 tells the two apart.
  assert.ok(withFresh < withShared * 1.25, `fresh tag strings ${withFresh.toFixed(0)} B per entry, shared ${withShared.toFixed(0)} B`)
})

test('the row cache keeps one string per tag too', () => {
  const bus = { listening: true, subscribe: () => {} } as unknown as InvalidationBus
  const fillRows = (tagsOf: (entry: number) => string[]) => {
    const tracker = createRaceTracker({ clockSkewMs: 0, retentionMs: 60_000 })
    const rows = createRowCache({ maxBytes: 1 << 30, ttlMs: 60_000, bus, tracker })
    const ticket = rows.ticket()
    for (let entry = 0; entry < ENTRIES; entry++) rows.set(`Row:${entry}`, entry, tagsOf(entry), ticket)
    assert.equal(rows.size, ENTRIES)
    return rows
  }
  fillRows(sharedTags)
  const withShared = bytesPerEntry(fillRows, sharedTags)
  const withFresh = bytesPerEntry(fillRows, freshTags)
  assert.ok(withFresh < withShared * 1.15, `fresh tag strings ${withFresh.toFixed(0)} B per entry, shared ${withShared.toFixed(0)} B`)
})
