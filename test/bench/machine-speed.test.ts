/** The load report's reference work: a positive time from a fresh process, pinned when asked, and how it is printed. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { findTaskset } from '../../bench/load/cpu-pinning.ts'
import { describeMachineSpeed, timeLoopbackWork, timeReferenceWork } from '../../bench/load/machine-speed.ts'

test('the reference work times itself in a fresh process: a positive number of ms', async () => {
  const ms = await timeReferenceWork(null)
  assert.ok(Number.isFinite(ms) && ms > 0, `got ${ms}`)
})

test('pinned to a CPU when taskset exists', { skip: findTaskset() === null ? 'taskset is not on PATH' : false }, async () => {
  const ms = await timeReferenceWork('0')
  assert.ok(Number.isFinite(ms) && ms > 0, `got ${ms}`)
})

test('the loopback work times its round trips in a fresh process: a positive number of ms', async () => {
  const ms = await timeLoopbackWork(findTaskset() === null ? null : '0')
  assert.ok(Number.isFinite(ms) && ms > 0, `got ${ms}`)
})

test('the report line names the times and the CPUs', () => {
  assert.equal(describeMachineSpeed({ cpus: '0', beforeMs: 912.4, afterMs: 1003.6 }),
    'reference work 912 ms before, 1004 ms after, on CPU 0 (the same fixed work each time: compare reports only when these agree)')
  assert.equal(describeMachineSpeed({ cpus: '0', beforeMs: 912.4, afterMs: 1003.6, loopbackBeforeMs: 301.2, loopbackAfterMs: 287.7 }),
    'reference work 912 ms before, 1004 ms after; loopback work 301 ms before, 288 ms after, on CPU 0 (the same fixed work each time: compare reports only when these agree)')
  assert.match(describeMachineSpeed({ cpus: null, beforeMs: 1, afterMs: 2 }), /on any CPU/)
})
