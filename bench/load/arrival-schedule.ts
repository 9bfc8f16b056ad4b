/**
 * When each request of an open-model run is due.
 *
 * Request k is due at `startMs + k * intervalMs`, computed by multiplication rather than by
 * adding the interval up, so a 5-minute run at 3000 rps does not drift by float error. The
 * schedule never looks at responses: that is what makes the model open.
 */

export interface ArrivalSchedule {
  readonly startMs: number
  readonly intervalMs: number
  /** How many requests the whole run sends. */
  readonly total: number
  /** Index of the next request not yet taken. */
  readonly nextIndex: number
  /** The due time of request `index`, in the clock of `startMs`. */
  dueAt (index: number): number
  /**
   * Takes the index of the next request if it is due at or before `nowMs`, else returns -1.
   * The caller loops on it every tick, so a late tick sends every overdue request at once.
   */
  takeDue (nowMs: number): number
  /** True once every request has been taken. */
  readonly finished: boolean
}

export function createArrivalSchedule (ratePerSecond: number, durationSeconds: number, startMs: number): ArrivalSchedule {
  if (!(ratePerSecond > 0) || !Number.isFinite(ratePerSecond)) {
    throw new RangeError(`ratePerSecond must be a positive number: ${ratePerSecond}`)
  }
  if (!(durationSeconds >= 0) || !Number.isFinite(durationSeconds)) {
    throw new RangeError(`durationSeconds must be a non-negative number: ${durationSeconds}`)
  }
  const intervalMs = 1000 / ratePerSecond
  const total = Math.round(ratePerSecond * durationSeconds)
  let nextIndex = 0
  let nextDueMs = startMs

  return {
    startMs,
    intervalMs,
    total,
    get nextIndex () { return nextIndex },
    get finished () { return nextIndex >= total },
    dueAt (index) {
      return startMs + index * intervalMs
    },
    takeDue (nowMs) {
      if (nextIndex >= total || nextDueMs > nowMs) return -1
      const index = nextIndex++
      nextDueMs = startMs + nextIndex * intervalMs
      return index
    }
  }
}
