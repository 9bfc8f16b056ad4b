/**
 * The HTTP budget's last line for every request of a process, in one queue: an entry still in
 * the queue when its budget ends is handed to `expire` (request-deadline.ts answers 504).
 *
 * Every HTTP budget has the same length, so entries end in the order they arrived: a FIFO in
 * arrival order needs one timer, for its front. That is what Node's timers do per duration
 * anyway, but they need a Timeout object (and an arguments array) per request. Here the links
 * live on the entries themselves (two fields and a due time each), and removing one is O(1).
 */

/** What an entry carries; the queue owns these fields while the entry is in it. */
export interface LastLineEntry {
  lastLinePrevious: LastLineEntry | null
  lastLineNext: LastLineEntry | null
  /** Whole milliseconds of performance.now() (a small integer: no boxed number per entry). */
  lastLineDueAt: number
}

export interface LastLineQueue<T extends LastLineEntry> {
  /** Starts `entry`'s budget now. */
  add (entry: T): void
  /** The entry's work is done: it leaves the queue (nothing happens if it is not in it). */
  remove (entry: T): void
  readonly size: number
  /** Stops the timer (app close); entries left are not expired. */
  close (): void
}

export function createLastLineQueue<T extends LastLineEntry> (budgetMs: number, expire: (entry: T) => void): LastLineQueue<T> {
  if (!Number.isInteger(budgetMs) || budgetMs < 1) throw new Error(`budgetMs must be a positive integer: ${budgetMs}`)
  let first: LastLineEntry | null = null
  let last: LastLineEntry | null = null
  let size = 0
  // Armed for the front's due time (or earlier: a front that left is not disarmed, the timer
  // then finds a later front and arms again): at most one at a time.
  let timer: NodeJS.Timeout | undefined
  let closed = false

  const unlink = (entry: LastLineEntry): void => {
    const { lastLinePrevious: previous, lastLineNext: next } = entry
    if (previous === null) first = next
    else previous.lastLineNext = next
    if (next === null) last = previous
    else next.lastLinePrevious = previous
    entry.lastLinePrevious = null
    entry.lastLineNext = null
    size--
  }

  const arm = (now: number): void => {
    if (first === null || closed) return
    // Node's timers count whole milliseconds of their own clock: at least 1 ms, so a front a
    // hair short of due is not polled in a loop.
    timer = setTimeout(fire, Math.max(1, first.lastLineDueAt - now))
    timer.unref()
  }

  function fire (): void {
    timer = undefined
    const now = performance.now()
    try {
      // unlink() moves `first` on to the next entry.
      for (let entry = first; entry !== null && entry.lastLineDueAt <= now; entry = first) {
        unlink(entry)
        expire(entry as T)
      }
    } finally {
      arm(now)
    }
  }

  return {
    add (entry) {
      const now = performance.now()
      entry.lastLineDueAt = Math.ceil(now + budgetMs)
      entry.lastLinePrevious = last
      entry.lastLineNext = null
      if (last === null) first = entry
      else last.lastLineNext = entry
      last = entry
      size++
      if (timer === undefined) arm(now)
    },
    remove (entry) {
      if (entry.lastLinePrevious === null && first !== entry) return
      unlink(entry)
    },
    get size () { return size },
    close () {
      closed = true
      clearTimeout(timer)
      timer = undefined
    }
  }
}
