/**
 * Store admission (src/cache/store-admission.ts): a key whose entries keep being invalidated
 * unread is stored less and less often, never less than once in 16 misses, and as before once
 * one of its entries is read; the memory tier reports exactly the entries an invalidation drops.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createMemoryStore } from '../../src/cache/memory-store.ts'
import { createStoreAdmission, MAX_WASTE_STREAK } from '../../src/cache/store-admission.ts'

/** How many of the next `misses` misses of `key` would be stored. */
function storedOf (admission: ReturnType<typeof createStoreAdmission>, key: string, misses: number): number {
  let stored = 0
  for (let i = 0; i < misses; i++) if (admission.admits(key)) stored++
  return stored
}

test('a key never invalidated unread is always stored', () => {
  const admission = createStoreAdmission()
  assert.equal(storedOf(admission, 'k', 100), 100)
})

test('skips grow with each entry invalidated unread in a row: 0, 1, 3, 7, 15, then stay at 15', () => {
  const admission = createStoreAdmission()
  const skipsPerStreak: number[] = []
  for (let streak = 1; streak <= MAX_WASTE_STREAK + 2; streak++) {
    admission.wasted('k')
    let skips = 0
    while (!admission.admits('k')) skips++
    skipsPerStreak.push(skips)
  }
  assert.deepEqual(skipsPerStreak, [0, 1, 3, 7, 15, 15, 15])
})

test('a read forgets the key: its misses are stored again at once', () => {
  const admission = createStoreAdmission()
  for (let i = 0; i < 4; i++) admission.wasted('k')
  assert.equal(admission.admits('k'), false)
  admission.read('k')
  assert.equal(storedOf(admission, 'k', 10), 10)
  admission.wasted('k')
  assert.equal(admission.admits('k'), true, 'the streak starts again from the first waste')
})

test('keys are independent, and the record is bounded', () => {
  const admission = createStoreAdmission(3)
  admission.wasted('a')
  admission.wasted('a')
  assert.equal(admission.admits('b'), true)
  assert.equal(admission.admits('a'), false)
  for (const key of ['c', 'd', 'e']) admission.wasted(key)
  assert.equal(admission.keysTracked, 3)
  admission.wasted('a')
  assert.equal(admission.admits('a'), true, 'a key pushed out of the record starts again from "store"')
})

test('memory tier: onInvalidated hears of each entry an invalidation drops, not of expiry, overwrite or clear', async () => {
  const heard: string[] = []
  const store = createMemoryStore({ maxBytes: 1 << 20, sweepIntervalMs: 0, onInvalidated: (key) => heard.push(key) })
  const entry = (tags: string[]) => ({ body: Buffer.from('{}'), etag: '"e"', tags, stampMs: 0 })
  store.store('one', entry(['t1']), 60_000)
  store.store('two', entry(['t1', 't2']), 60_000)
  store.store('three', entry(['t3']), 60_000)
  store.store('short', entry(['t4']), 1)
  store.store('three', entry(['t3']), 60_000) // overwritten
  store.invalidate(['t1'])
  assert.deepEqual(heard.sort(), ['one', 'two'])
  await new Promise((resolve) => setTimeout(resolve, 5))
  store.invalidate(['t4']) // expired already: nothing left to drop
  store.clear()
  assert.deepEqual(heard.sort(), ['one', 'two'])
  store.close()
})
