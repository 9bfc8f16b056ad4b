/**
 * The server's allocation and GC figures in the words both reports (text and HTML) use, so a
 * reader sees the same sentence in the terminal and in the file.
 */
import type { ServerMetricsSummary } from './result-types.ts'

export function describeAllocation (server: ServerMetricsSummary): string {
  if (server.allocatedBytesPerRequest == null || server.heapAllocatedBytes == null) return 'n/a (no jotter_heap_allocated_bytes_total)'
  const scrape = server.scrapeAllocatedBytes == null ? '' : `; the /metrics scrapes' ${(server.scrapeAllocatedBytes / 1024).toFixed(0)} KB each subtracted`
  return `${(server.allocatedBytesPerRequest / 1024).toFixed(1)} KB per request, hits and misses together (${(server.heapAllocatedBytes / MiB).toFixed(0)} MiB over the window${scrape})`
}

export function describeGcPauses (server: ServerMetricsSummary): string {
  const gc = server.gcPauses
  if (gc == null) return 'n/a (no nodejs_gc_duration_seconds)'
  if (gc.pauses === 0) return 'none in the window'
  const kinds = gc.byKind.map((kind) => `${kind.kind} ${kind.pauses} × ${kind.meanMs} ms`).join(', ')
  return `${gc.pauses} (${gc.perSecond}/s): p50 ${gc.p50Ms} ms, p99 ${gc.p99Ms} ms, longest ≤ ${gc.maxMsAtMost} ms; ` +
    `${gc.totalMs} ms in all, ${(gc.shareOfWindow * 100).toFixed(2)} % of the window (${kinds})`
}

const MiB = 1024 * 1024
