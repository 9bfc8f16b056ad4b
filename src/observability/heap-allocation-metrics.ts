/**
 * jotter_heap_allocated_bytes_total: bytes allocated on the V8 heap since the app started,
 * the figure that sets how often the young generation is collected (and so the GC pauses).
 *
 * Node 20 has no allocation counter (v8.getHeapStatistics() has no total_allocated_bytes), and
 * heap-used deltas lose whatever a collection freed. v8.GCProfiler records the heap's used
 * size before and after every collection, so nothing is lost: between two collections the
 * used size grows by exactly what was allocated, and
 *   allocated = Σ (used before GC i − used after GC i−1) + (used now − used after the last GC).
 * The profile is folded into the counter at each scrape and every FOLD_INTERVAL_MS, so it never
 * holds more than that interval of collections. Off-heap memory (Buffer contents) is not counted.
 *
 * A collection that runs while the profile is being folded (the fold allocates a few KB; a
 * young generation holds megabytes, so about one fold in a thousand) is miscounted by what it
 * freed; a window that would come out negative counts nothing.
 */
import { GCProfiler, getHeapStatistics } from 'node:v8'
import { Counter, type Registry } from 'prom-client'

export interface HeapAllocationMetrics {
  /** Stops the profiler and its timer (app close). */
  stop (): void
}

/** Long enough to cost nothing, short enough that a profile holds tens of collections, not thousands. */
const FOLD_INTERVAL_MS = 10_000

export function registerHeapAllocationMetrics (registry: Registry): HeapAllocationMetrics {
  let profiler = new GCProfiler()
  let baseline = getHeapStatistics().used_heap_size
  profiler.start()
  let stopped = false

  const fold = (): number => {
    if (stopped) return 0
    const usedNow = getHeapStatistics().used_heap_size
    const profile = profiler.stop()
    profiler = new GCProfiler()
    profiler.start()
    let allocated = 0
    let previousAfter = baseline
    for (const collection of profile.statistics) {
      allocated += collection.beforeGC.heapStatistics.usedHeapSize - previousAfter
      previousAfter = collection.afterGC.heapStatistics.usedHeapSize
    }
    allocated += usedNow - previousAfter
    baseline = usedNow
    return Math.max(0, allocated)
  }

  const counter = new Counter({
    name: 'jotter_heap_allocated_bytes_total',
    help: 'Bytes allocated on the V8 heap (what the garbage collector must later deal with), reconstructed from v8.GCProfiler; Buffer contents are off-heap and not counted.',
    registers: [registry],
    collect () {
      this.inc(fold())
    }
  })
  const timer = setInterval(() => counter.inc(fold()), FOLD_INTERVAL_MS).unref()

  return {
    stop () {
      if (stopped) return
      stopped = true
      clearInterval(timer)
      profiler.stop()
    }
  }
}
