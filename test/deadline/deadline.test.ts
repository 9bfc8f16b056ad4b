/** The deadline tree: lazy signal, expiry, aborts reaching children, one timeout per request. */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { test } from 'node:test'
import { createDeadline } from '../../src/deadline/deadline.ts'
import { ApiError } from '../../src/errors.ts'

test('expiry is seen without anyone reading the signal', async () => {
  const deadline = createDeadline(5)
  assert.doesNotThrow(() => deadline.throwIfExpired('graphql'))
  await new Promise((resolve) => setTimeout(resolve, 20))
  assert.throws(() => deadline.throwIfExpired('graphql'), (error: ApiError) => error.code === 'TIMEOUT' && error.extensions.layer === 'http')
  assert.equal(deadline.remainingBudgetMs(), 0)
})

test('a signal read before expiry fires at expiry with a TIMEOUT reason', async () => {
  const deadline = createDeadline(20, undefined, { layer: 'graphql' })
  const { signal } = deadline
  assert.equal(signal.aborted, false)
  // The deadline's timer is unref'd (it must not hold a closing process open): keep this one up.
  const keepAlive = setTimeout(() => {}, 5_000)
  await once(signal, 'abort')
  clearTimeout(keepAlive)
  assert.ok(signal.reason instanceof ApiError)
  assert.equal((signal.reason as ApiError).extensions.layer, 'graphql')
})

test('an abort before the signal is read is not lost, and reaches children', () => {
  const parent = createDeadline(10_000)
  const early = parent.child(5_000, 'graphql')
  parent.abort(new Error('client disconnected'))
  assert.equal(parent.signal.aborted, true)
  assert.equal(early.signal.aborted, true)
  const late = parent.child(5_000, 'graphql')
  assert.equal(late.signal.aborted, true)
  assert.throws(() => late.throwIfExpired('database'), (error: ApiError) => error.code === 'TIMEOUT' && error.extensions.layer === 'client')
  parent.dispose()
})

test('a child gets the smaller of its budget and what its parent has left', () => {
  const parent = createDeadline(1_000)
  const generous = parent.child(60_000, 'graphql')
  const tight = parent.child(10, 'graphql')
  assert.equal(generous.expiresAt, parent.expiresAt)
  assert.ok(tight.expiresAt < parent.expiresAt)
  parent.dispose()
})

test('a request reports at most one timeout, with the layer that ran out', async () => {
  const layers: string[] = []
  const parent = createDeadline(5, undefined, { layer: 'http', onTimeout: (layer) => layers.push(layer) })
  const child = parent.child(1, 'graphql')
  await new Promise((resolve) => setTimeout(resolve, 20))
  assert.throws(() => child.throwIfExpired('database'))
  assert.throws(() => parent.throwIfExpired('http'))
  assert.deepEqual(layers, ['graphql'])
})

test('an external parent signal aborts the deadline', () => {
  const controller = new AbortController()
  const deadline = createDeadline(10_000, controller.signal)
  controller.abort(new Error('gone'))
  assert.equal(deadline.signal.aborted, true)
  deadline.dispose()
})
