/**
 * What the process says about its own garbage: jotter_heap_allocated_bytes_total (rebuilt from
 * v8.GCProfiler) counts what was allocated, collections in between included, and
 * nodejs_gc_duration_seconds has buckets fine enough to tell young-generation pauses apart.
 * Also the request id, which is made on every request without an x-request-id.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Registry } from 'prom-client'
import { registerHeapAllocationMetrics } from '../../src/observability/heap-allocation-metrics.ts'
import { createMetricsRegistry } from '../../src/observability/metrics.ts'
import { randomRequestUuid } from '../../src/observability/request-id.ts'
import { valueOf } from './prometheus-text.ts'

const MiB = 1024 * 1024

async function allocated (registry: Registry): Promise<number> {
  return valueOf(await registry.metrics(), 'jotter_heap_allocated_bytes_total')
}

/** 4096 arrays of 1024 doubles (8 KiB each), each dropped at once: 32 MiB of garbage, several scavenges. */
function allocate32MiB (): number {
  let checksum = 0
  for (let index = 0; index < 4096; index++) {
    const array = new Array<number>(1024).fill(index + 0.5)
    checksum += array[index % 1024]
  }
  return checksum
}

test('the counter counts what was allocated, though collections freed it meanwhile', async () => {
  const registry = new Registry()
  const metrics = registerHeapAllocationMetrics(registry)
  try {
    const start = await allocated(registry)
    allocate32MiB()
    const grown = await allocated(registry) - start
    assert.ok(grown >= 32 * MiB && grown < 40 * MiB, `32 MiB allocated, counted ${(grown / MiB).toFixed(1)} MiB`)
    // The other side: a quiet stretch (only the scrape itself) counts well under a MiB.
    const quiet = await allocated(registry)
    const quietGrowth = await allocated(registry) - quiet
    assert.ok(quietGrowth < MiB, `nothing allocated, counted ${(quietGrowth / MiB).toFixed(2)} MiB`)
  } finally {
    metrics.stop()
  }
})

test('stopped, it counts nothing more (no profiler, no timer left running)', async () => {
  const registry = new Registry()
  const metrics = registerHeapAllocationMetrics(registry)
  metrics.stop()
  metrics.stop()
  const before = await allocated(registry)
  allocate32MiB()
  assert.equal(await allocated(registry), before)
})

test('GC pauses are bucketed finely below 50 ms; the allocation counter is exported beside them', async () => {
  const registry = createMetricsRegistry()
  const metrics = registerHeapAllocationMetrics(registry)
  try {
    allocate32MiB()
    // The GC entries reach prom-client's PerformanceObserver asynchronously.
    await new Promise((resolve) => setTimeout(resolve, 50))
    const text = await registry.metrics()
    const edges = new Set([...text.matchAll(/^nodejs_gc_duration_seconds_bucket\{[^}]*kind="minor"[^}]*\} /gm)].map((match) => /le="([^"]+)"/.exec(match[0])![1]))
    for (const le of ['0.001', '0.002', '0.003', '0.005', '0.0075', '0.01', '0.015', '0.02', '0.03', '0.05', '+Inf']) assert.ok(edges.has(le), `bucket ${le} in ${[...edges].join(', ')}`)
    assert.ok(valueOf(text, 'nodejs_gc_duration_seconds_count', { kind: 'minor' }) >= 1, '32 MiB of garbage made at least one scavenge')
    assert.match(text, /^# TYPE jotter_heap_allocated_bytes_total counter$/m)
  } finally {
    metrics.stop()
  }
})

test('request ids: version-4 UUIDs, distinct across many batches of entropy', () => {
  const ids = new Set<string>()
  for (let index = 0; index < 10_000; index++) ids.add(randomRequestUuid())
  assert.equal(ids.size, 10_000)
  for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
})
