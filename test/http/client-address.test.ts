/**
 * The address the limits count by: the plugin's normalization for a live request, and a stable
 * placeholder for one whose client already hung up (Node then reports no remote address), so
 * nothing throws inside the request hooks under load.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { FastifyRequest } from 'fastify'
import { clientAddressOf } from '../../src/http/rate-limits.ts'

const requestFrom = (ip: string | undefined) => ({ ip }) as unknown as FastifyRequest

test('a live request counts by its normalized address; one whose client is gone counts as unknown', () => {
  assert.equal(clientAddressOf(requestFrom('127.0.0.1')), '127.0.0.1')
  assert.equal(clientAddressOf(requestFrom('2001:db8:1:2:3:4:5:6')), clientAddressOf(requestFrom('2001:db8:1:2:ffff:4:5:6')), 'IPv6 by /64')
  assert.equal(clientAddressOf(requestFrom(undefined)), 'unknown')
})
