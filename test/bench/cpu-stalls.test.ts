/** The stall probe: its summary of gaps, its report line, and a real probe's sanity. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { findTaskset } from '../../bench/load/cpu-pinning.ts'
import { describeCpuStalls, probeCpuStalls, summariseStalls } from '../../bench/load/cpu-stalls.ts'

test('the summary counts the gaps, their share of the time and the ones over 3 and 10 ms', () => {
  const stalls = summariseStalls('0', 2, [0.6, 12, 3.5, 1, 3, 20])
  assert.equal(stalls.count, 6)
  assert.equal(stalls.lostShare, 40.1 / 2000)
  assert.deepEqual(stalls.longestMs, [20, 12, 3.5, 3, 1])
  assert.equal(stalls.over3Ms, 3) // 3 ms itself is not over 3 ms
  assert.equal(stalls.over10Ms, 2)
  assert.equal(describeCpuStalls(stalls),
    'CPU 0: lost 6 times > 0.5 ms in 2 s (2.01 % of the time; 3 > 3 ms, 2 > 10 ms; longest 20.0, 12.0, 3.5, 3.0, 1.0 ms)')
})

test('no gap at all reads as such', () => {
  const stalls = summariseStalls(null, 1, [])
  assert.equal(stalls.lostShare, 0)
  assert.match(describeCpuStalls(stalls), /^any CPU: lost 0 times .* longest none ms\)$/)
})

test('a real probe of one second loses a share of its time between 0 and 1, each gap over the threshold', { skip: findTaskset() === null ? 'taskset is not on PATH' : false }, async () => {
  const stalls = await probeCpuStalls('0', 1)
  assert.equal(stalls.cpu, '0')
  assert.ok(stalls.lostShare >= 0 && stalls.lostShare < 1, `lost ${stalls.lostShare}`)
  assert.ok(stalls.longestMs.every((gap) => gap > 0.5), `gaps ${stalls.longestMs.join(', ')}`)
})
