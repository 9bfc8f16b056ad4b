/**
 * Preload for the soak benchmark: `node --expose-gc --import tsx --import ./bench/gc-on-signal.ts
 * src/server.ts`. On SIGWINCH the process runs a full garbage collection, so the soak can read
 * RSS and heap from /metrics *after* GC: memory that only waits for a collection is not a leak,
 * and sampling it would make a healthy server look like a leaking one.
 *
 * Why SIGWINCH: close-with-grace (src/server.ts) shuts down on SIGUSR2 and most other signals,
 * SIGUSR1 starts Node's inspector, and SIGWINCH is ignored by default, so sent to a server
 * without this preload it does nothing at all.
 *
 * Ours and outside src/ on purpose: the app gets no debug hook at all, and only a process that
 * the benchmark started with this preload answers the signal. Under the cluster, the primary
 * passes the signal on to every worker (each has its own heap).
 */
import cluster from 'node:cluster'

const collect = (globalThis as { gc?: () => void }).gc
if (typeof collect !== 'function') {
  throw new Error('bench/gc-on-signal.ts needs node --expose-gc (global.gc is missing)')
}

/** bench/soak.ts sends this one. */
const GC_SIGNAL = 'SIGWINCH'

process.on(GC_SIGNAL, () => {
  collect()
  if (cluster.isPrimary) {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(GC_SIGNAL)
  }
})
