/**
 * Our own: who is waiting for which transaction's notification. The invalidation bus reports
 * each notification's transaction id (`heard`); a writer waits (`wait`) for the ids of its own
 * commits (src/db/commits.ts) before its response leaves. Notifications come in commit order,
 * so once a writer's own has come back, every change committed before it has been applied.
 *
 * A notification may come back before its writer asks (two connections, no order between
 * them): the last RECENT_COMMITS ids heard are remembered, which at a few hundred commits a
 * second is many seconds, while a writer asks within milliseconds of its commit.
 */
export interface CommitWaiters {
  /** A notification of transaction `id` was applied. */
  heard (id: string): void
  /** Resolves once every id was heard (at once if all were), or after `timeoutMs`. */
  wait (ids: readonly string[], timeoutMs: number): Promise<void>
  /** Resolves every wait now and forgets what was heard (the bus was lost or closed). */
  releaseAll (): void
  /** Ids someone is waiting for (tests look at what a timeout left behind). */
  readonly waiting: number
}

export const RECENT_COMMITS = 4096

export function createCommitWaiters (recentLimit = RECENT_COMMITS): CommitWaiters {
  // Insertion order = order heard, so the oldest is the first to forget.
  const recent = new Set<string>()
  const waiters = new Map<string, Set<() => void>>()

  return {
    heard (id) {
      recent.add(id)
      if (recent.size > recentLimit) recent.delete(recent.values().next().value!)
      const waiting = waiters.get(id)
      if (waiting === undefined) return
      waiters.delete(id)
      for (const arrived of waiting) arrived()
    },

    wait (ids, timeoutMs) {
      const missing = [...new Set(ids)].filter((id) => !recent.has(id))
      if (missing.length === 0) return Promise.resolve()
      return new Promise<void>((resolve) => {
        let left = missing.length
        const arrived = (): void => { if (--left === 0) done() }
        const done = (): void => {
          clearTimeout(timer)
          for (const id of missing) {
            const waiting = waiters.get(id)
            waiting?.delete(arrived)
            if (waiting?.size === 0) waiters.delete(id)
          }
          resolve()
        }
        const timer = setTimeout(done, timeoutMs).unref()
        for (const id of missing) {
          let waiting = waiters.get(id)
          if (waiting === undefined) waiters.set(id, waiting = new Set())
          waiting.add(arrived)
        }
      })
    },

    releaseAll () {
      recent.clear()
      const all = [...waiters.values()]
      waiters.clear()
      // Each wait is resolved once its last id arrives: call every one until all are done.
      for (const waiting of all) for (const arrived of waiting) arrived()
    },

    get waiting () { return waiters.size }
  }
}
