/** The benchmarks' count flags: 1 and up are taken, 0, fractions and words are a UsageError naming the flag. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { positiveInteger, UsageError } from '../../bench/cli-flags.ts'

test('positiveInteger: 1 is the smallest count taken; 0, 1.5 and words are refused with the flag and the value', () => {
  assert.equal(positiveInteger('--rounds', '1'), 1)
  assert.equal(positiveInteger('--rounds', '200'), 200)
  for (const raw of ['0', '-3', '1.5', 'ten', '']) {
    assert.throws(() => positiveInteger('--rounds', raw), (error: Error) =>
      error instanceof UsageError && error.message === `--rounds must be a positive integer: ${JSON.stringify(raw)}`)
  }
})
