/**
 * The bus's sync markers alone: one marker in flight, later callers share the next one, a
 * marker that does not come back in time gives up on its connection, and nothing waits for good.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createSyncMarkers, type SentMarker } from '../../src/changes/sync-markers.ts'

function harness (patienceMs = 10_000) {
  const sent: string[] = []
  const lost: string[] = []
  let connected = true
  const markers = createSyncMarkers({
    patienceMs,
    send (payload): SentMarker | undefined {
      if (!connected) return undefined
      sent.push(payload)
      return { query: Promise.resolve(), lose: (error) => { lost.push(error.message) } }
    }
  })
  const released: string[] = []
  return { markers, sent, lost, released, disconnect: () => { connected = false } }
}

test('one marker in flight; callers meanwhile share the next; a foreign marker releases nobody', () => {
  const { markers, sent, released } = harness()
  markers.wait(() => released.push('a'))
  markers.wait(() => released.push('b'))
  markers.wait(() => released.push('c'))
  assert.equal(sent.length, 1, 'b and c wait for the marker after a\'s')
  assert.equal(markers.received('{"marker":"someone-else:1"}'), true)
  assert.deepEqual(released, [])
  assert.equal(markers.received('{"n":["1"]}'), false, 'a change is not a marker')
  markers.received(sent[0])
  assert.deepEqual(released, ['a'])
  assert.equal(sent.length, 2)
  markers.received(sent[1])
  assert.deepEqual(released, ['a', 'b', 'c'])
})

test('a marker not back within patience gives up on its connection; releaseAll and no connection release at once', async () => {
  const { markers, sent, lost, released, disconnect } = harness(20)
  markers.wait(() => released.push('late'))
  await new Promise((resolve) => setTimeout(resolve, 40))
  assert.deepEqual(lost, ['sync marker not delivered within 20 ms'])
  markers.wait(() => released.push('queued'))
  disconnect()
  markers.releaseAll()
  assert.deepEqual(released, ['late', 'queued'], 'the next marker finds no connection: its waiters are released too')
  markers.wait(() => released.push('unconnected'))
  assert.deepEqual(released, ['late', 'queued', 'unconnected'])
  assert.equal(sent.length, 1)
})
