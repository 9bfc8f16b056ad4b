/**
 * CPU pinning for the benchmarks (bench/load/cpu-pinning.ts): a command started pinned and a
 * running process pinned afterwards are read back from /proc as pinned; the report says which.
 * Needs taskset and two CPUs; skipped, with the reason, without them.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { test } from 'node:test'
import { allowedCpus, describePinning, findTaskset, parseCpuList, pinnedCommand, pinProcess } from '../../bench/load/cpu-pinning.ts'

const cpus = parseCpuList(allowedCpus('self') ?? '')
const skip = findTaskset() === null ? 'taskset is not on PATH' : !(cpus.includes(0) && cpus.includes(1)) ? `needs CPUs 0 and 1, has ${cpus.join(',') || 'unknown'}` : false

test('CPU lists and the report line', () => {
  assert.deepEqual(parseCpuList('0'), [0])
  assert.deepEqual(parseCpuList('0,2-4'), [0, 2, 3, 4])
  assert.deepEqual(parseCpuList('garbage'), [])
  assert.equal(describePinning({ server: '0', postgres: null, generator: '0-1', online: '0-1' }), 'server on CPU 0, PostgreSQL unknown, generator not pinned (CPUs 0-1)')
})

test('a command started pinned runs on that CPU only', { skip }, async () => {
  const { command, args } = pinnedCommand('1', process.execPath, ['-e', 'process.stdout.write(require("fs").readFileSync("/proc/self/status", "utf8").match(/Cpus_allowed_list:\\s*(\\S+)/)[1])'])
  const child = spawn(command, args)
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
  assert.equal(await new Promise((resolve) => child.on('close', resolve)), 0)
  assert.equal(output, '1')
})

test('a running process and its threads are pinned afterwards, and it is read back', { skip }, async () => {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'])
  try {
    await new Promise((resolve) => child.once('spawn', resolve))
    assert.equal(allowedCpus(child.pid!), allowedCpus('self'), 'not pinned before')
    assert.equal(await pinProcess(child.pid!, '0'), '0')
    assert.equal(allowedCpus(child.pid!), '0')
  } finally {
    child.kill('SIGKILL')
    await new Promise((resolve) => child.once('close', resolve))
  }
})
