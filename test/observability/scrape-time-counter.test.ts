/**
 * The scrape-time counter exports exactly what a prom-client Counter incremented the same way
 * would: the same text, series in the same order, 0 for an unlabelled counter never bumped.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Counter, Registry } from 'prom-client'
import { createScrapeTimeCounter } from '../../src/observability/scrape-time-counter.ts'

test('the same exposition as prom-client\'s Counter, labelled and unlabelled, scrape after scrape', async () => {
  const ours = new Registry()
  const theirs = new Registry()
  const hits = createScrapeTimeCounter({ name: 'hits_total', help: 'Hits.', labelName: 'operation', registers: [ours] })
  const stores = createScrapeTimeCounter({ name: 'stores_total', help: 'Stores.', registers: [ours] })
  const promHits = new Counter({ name: 'hits_total', help: 'Hits.', labelNames: ['operation'], registers: [theirs] })
  const promStores = new Counter({ name: 'stores_total', help: 'Stores.', registers: [theirs] })

  assert.equal(await ours.metrics(), await theirs.metrics(), 'nothing counted yet: an unlabelled 0, no labelled series')
  for (const operation of ['userList', 'noteDetail', 'userList', 'other', 'userList']) {
    hits.inc(operation)
    promHits.inc({ operation })
  }
  stores.inc()
  promStores.inc()
  const text = await ours.metrics()
  assert.equal(text, await theirs.metrics())
  assert.match(text, /^hits_total\{operation="userList"\} 3$/m)
  assert.match(text, /^stores_total 1$/m)
  assert.equal(await ours.metrics(), text, 'a second scrape does not count anything twice')
  hits.inc('noteDetail')
  promHits.inc({ operation: 'noteDetail' })
  assert.equal(await ours.metrics(), await theirs.metrics())
})
