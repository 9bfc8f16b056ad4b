/**
 * The last-line queue (src/http/last-line.ts): entries expire at their budget, in arrival
 * order, each once; an entry removed in time never expires, wherever it sat in the queue; one
 * timer serves the whole queue and close() stops it. (request-deadline's 504 over real HTTP:
 * http-budget.test.ts.)
 */
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'node:test'
import { createLastLineQueue, type LastLineEntry } from '../../src/http/last-line.ts'

interface Item extends LastLineEntry { name: string }
const item = (name: string): Item => ({ name, lastLinePrevious: null, lastLineNext: null, lastLineDueAt: 0 })

test('entries expire at their budget in arrival order; removed ones (first, middle, last) never do', async () => {
  const expired: Array<{ name: string, afterMs: number }> = []
  const started = performance.now()
  const queue = createLastLineQueue<Item>(60, (entry) => expired.push({ name: entry.name, afterMs: performance.now() - started }))
  const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map(item)
  queue.add(a)
  queue.add(b)
  queue.add(c)
  await sleep(20)
  queue.add(d)
  queue.add(e)
  assert.equal(queue.size, 5)
  queue.remove(a) // the front
  queue.remove(c) // the middle
  queue.remove(e) // the back
  queue.remove(e) // twice: nothing happens
  queue.remove(item('never added'))
  assert.equal(queue.size, 2)
  await sleep(150)
  assert.deepEqual(expired.map((entry) => entry.name), ['b', 'd'])
  assert.ok(expired[0].afterMs >= 59, `b not before its budget: ${expired[0].afterMs}`)
  assert.ok(expired[1].afterMs >= 79, `d at its own budget, 20 ms later: ${expired[1].afterMs}`)
  assert.equal(queue.size, 0)
  assert.equal(b.lastLineNext, null, 'an expired entry is unlinked')
  queue.close()
})

test('an entry removed by its own expiry (the 504 is sent, then onResponse removes it) and entries added after a lull', async () => {
  const expired: string[] = []
  const queue = createLastLineQueue<Item>(10, (entry) => {
    expired.push(entry.name)
    queue.remove(entry)
  })
  queue.add(item('first'))
  await sleep(40)
  queue.add(item('after the lull'))
  await sleep(40)
  assert.deepEqual(expired, ['first', 'after the lull'])
  queue.close()
})

test('close() stops the timer: nothing expires afterwards, and the budget must be a positive integer', async () => {
  const expired: string[] = []
  const queue = createLastLineQueue<Item>(10, (entry) => expired.push(entry.name))
  queue.add(item('left'))
  queue.close()
  await sleep(40)
  assert.deepEqual(expired, [])
  assert.throws(() => createLastLineQueue(0, () => {}), /budgetMs must be a positive integer: 0/)
})
