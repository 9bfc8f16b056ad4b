/** The invalidation bus's Prometheus metrics, as an observer the bus calls. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import type { BusObserver } from './invalidation-bus.ts'

export function createBusMetrics (registry: Registry): BusObserver {
  const registers = [registry]
  const listening = new Gauge({ name: 'jotter_cache_bus_listening', help: '1 while this process listens for invalidations (its caches serve); 0 while they are bypassed.', registers })
  const losses = new Counter({ name: 'jotter_cache_bus_losses_total', help: 'Times the invalidation bus stopped listening (caches flushed and bypassed).', registers })
  const notifications = new Counter({ name: 'jotter_cache_bus_notifications_total', help: 'Invalidation notifications received from PostgreSQL and applied.', registers })
  const delay = new Histogram({
    name: 'jotter_cache_bus_delay_seconds',
    help: 'From the change (the trigger\'s clock) to every cache of this process having dropped it.',
    buckets: [0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers
  })
  const ownCommitWait = new Histogram({
    name: 'jotter_cache_bus_own_commit_wait_seconds',
    help: 'How long a mutation\'s response waited for its own commits\' notifications (or a sync marker) to come back.',
    buckets: [0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25],
    registers
  })
  return {
    onOwnCommitWait (waitedMs) {
      ownCommitWait.observe(waitedMs / 1000)
    },
    onNotification (delayMs) {
      notifications.inc()
      if (delayMs !== undefined) delay.observe(Math.max(0, delayMs) / 1000)
    },
    onListeningChange (value) {
      listening.set(value ? 1 : 0)
      if (!value) losses.inc()
    }
  }
}
