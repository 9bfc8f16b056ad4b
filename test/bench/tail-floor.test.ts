/** bench:tail-floor's table: one row per server, GC pauses only where the server reports them. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { formatTailFloor } from '../../bench/tail-floor.ts'
import type { LoadResult } from '../../bench/load/index.ts'
import { summariseStalls } from '../../bench/load/cpu-stalls.ts'

function result (p99: number, gcPauseP99Ms: number | null): LoadResult {
  return {
    latencyMs: { p50: 1, p90: 2, p99, p999: p99 * 2, max: p99 * 3, mean: 1.5 },
    successRate: 1,
    generator: { sendLagP99Ms: 4.5, sendLagMaxMs: 20, keptUp: true },
    server: { gcPauses: gcPauseP99Ms === null ? null : { p99Ms: gcPauseP99Ms } }
  } as unknown as LoadResult
}

test('the table has Jotter\'s row and the bare server\'s, the bare one without GC figures', () => {
  const text = formatTailFloor(
    [{ target: 'Jotter, default config', result: result(12.5, 7.3) }, { target: 'bare node:http, same bytes', result: result(9.3, null) }],
    [summariseStalls('0', 10, [1, 4]), summariseStalls('1', 10, [])],
    { rate: 1000, durationSeconds: 60, warmupSeconds: 30, pinning: 'pinned' })
  const lines = text.split('\n')
  assert.equal(lines[0], 'Read mix at 1000 req/s for 60 s after 30 s of warm-up; pinned.')
  assert.ok(lines.includes('| Jotter, default config | 1.00 | 12.50 | 25.00 | 37.50 | 100.00 % | 4.50 / 20.00 | 7.30 |'), text)
  assert.ok(lines.includes('| bare node:http, same bytes | 1.00 | 9.30 | 18.60 | 27.90 | 100.00 % | 4.50 / 20.00 | n/a |'), text)
  assert.match(text, /CPU 0: lost 2 times .*1 > 3 ms/)
  assert.match(text, /CPU 1: lost 0 times/)
})
