/**
 * The one race tracker of a process, used by the response cache and the row cache alike: it
 * remembers when each tag was last invalidated here, so that nothing computed from data read
 * before an invalidation is stored, or served from the shared tier, after it.
 *
 * Two clocks, for two questions:
 *  - `accepts(tags, ticket)`, for this process's own stores: a ticket is taken before the data
 *    is read; the store is refused when any of its tags was invalidated since (`seq`, a counter
 *    of invalidations in this process: exact, no clock involved).
 *  - `isCurrent(tags, stampMs)`, for entries another process computed (the Redis tier): an
 *    entry carries the wall-clock time its computation's ticket was taken; it is refused when
 *    this process heard of an invalidation of any of its tags at or after that time, less
 *    `clockSkewMs`. The invalidation committed before it was heard of here, so a refusal
 *    covers every entry whose data may predate the commit, as long as the two machines'
 *    clocks differ by less than `clockSkewMs`.
 *
 * `clear()` (the bus was lost, or everything changed) refuses every store in flight and every
 * shared entry stamped before it. Records older than `retentionMs` (longer than any entry can
 * live) are forgotten; past `maxTrackedTags` all are, conservatively, as by `clear()`.
 */
import type { InvalidationListener } from './invalidation-listener.ts'

export interface Ticket {
  /** Invalidations this process had seen when the ticket was taken. */
  readonly seq: number
  /** Wall clock (epoch ms) when the ticket was taken: the stamp of a shared entry. */
  readonly wallMs: number
}

export interface RaceTracker extends InvalidationListener {
  ticket (): Ticket
  /** Whether a value computed after `ticket` may be stored now. */
  accepts (tags: readonly string[], ticket: Ticket): boolean
  /** Whether an entry computed (in any process) after `stampMs` is still current here. */
  isCurrent (tags: readonly string[], stampMs: number): boolean
  /** Tags remembered now (bounded by maxTrackedTags). */
  readonly trackedTags: number
}

export interface RaceTrackerOptions {
  /** How far apart two machines' clocks may be (CACHE_CLOCK_SKEW_MS). */
  clockSkewMs: number
  /** How long a record matters: the longest an entry can live after its ticket. */
  retentionMs: number
  maxTrackedTags?: number
  now?: () => number
}

export function createRaceTracker ({ clockSkewMs, retentionMs, maxTrackedTags = 100_000, now = Date.now }: RaceTrackerOptions): RaceTracker {
  // Insertion order = invalidation order (a tag is deleted and re-added), so the oldest
  // records are at the front and forgetting them is a walk of only what is forgotten.
  const lastInvalidated = new Map<string, { seq: number, wallMs: number }>()
  let seq = 0
  let clearedSeq = 0
  let clearedWallMs = -Infinity

  function forgetOld (wallNow: number): void {
    for (const [tag, record] of lastInvalidated) {
      if (record.wallMs >= wallNow - retentionMs) break
      lastInvalidated.delete(tag)
    }
  }

  function clear (): void {
    seq++
    clearedSeq = seq
    clearedWallMs = now()
    lastInvalidated.clear()
  }

  return {
    ticket: () => ({ seq, wallMs: now() }),

    accepts (tags, ticket) {
      if (clearedSeq > ticket.seq) return false
      for (const tag of tags) {
        const record = lastInvalidated.get(tag)
        if (record !== undefined && record.seq > ticket.seq) return false
      }
      return true
    },

    isCurrent (tags, stampMs) {
      const newest = stampMs - clockSkewMs
      if (clearedWallMs >= newest) return false
      for (const tag of tags) {
        const record = lastInvalidated.get(tag)
        if (record !== undefined && record.wallMs >= newest) return false
      }
      return true
    },

    invalidate (tags) {
      const wallMs = now()
      seq++
      const record = { seq, wallMs }
      for (const tag of tags) {
        lastInvalidated.delete(tag)
        lastInvalidated.set(tag, record)
      }
      forgetOld(wallMs)
      // Forgetting recent records could let a stale store through: refuse everything instead.
      if (lastInvalidated.size > maxTrackedTags) clear()
    },

    clear,

    get trackedTags () { return lastInvalidated.size }
  }
}
