/** spreadTtl: a lifetime between half the TTL and the TTL, never longer, never 0. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { spreadTtl } from '../../src/cache-primitives/spread-ttl.ts'

test('the ends: random 0 gives the whole TTL, random just under 1 half of it; a 1-ms TTL stays 1 ms', () => {
  assert.equal(spreadTtl(60_000, 0), 60_000)
  assert.equal(spreadTtl(60_000, 0.999999), 30_001)
  assert.equal(spreadTtl(1, 0.999999), 1)
})

test('any TTL and any draw: at least half the TTL (and 1 ms), never more than the TTL', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 86_400_000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (ttlMs, random) => {
    const lifetime = spreadTtl(ttlMs, random)
    return Number.isInteger(lifetime) && lifetime >= 1 && lifetime >= ttlMs / 2 && lifetime <= ttlMs
  }))
})
