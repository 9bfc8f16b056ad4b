/** A bus without PostgreSQL: what a cache sees of it (announce, listening), for unit tests. */
import type { InvalidationBus } from '../../src/changes/invalidation-bus.ts'
import type { InvalidationListener } from '../../src/changes/invalidation-listener.ts'

export function localBus (): InvalidationBus & { listening: boolean } {
  const listeners: InvalidationListener[] = []
  return {
    listening: true,
    subscribe: (listener) => { listeners.push(listener) },
    announce: (tags) => { for (const listener of listeners) tags === 'all' ? listener.clear('changed') : listener.invalidate(tags) },
    sync: async () => {},
    awaitCommits: async () => {},
    whenListening: async () => true,
    close: async () => {}
  }
}
