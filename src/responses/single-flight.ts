/**
 * Single flight per cache key, per process (our own: a few lines over a Map). The first miss of
 * a key claims it and computes; a later miss of the same key waits for that claim's release (its
 * store, or its end on any path), at most `maxWaitMs`, and then looks again.
 */
export interface SingleFlight {
  /** The claim on `key` if nobody holds it: call its release when the store is done (again is a no-op). */
  claim (key: string): (() => void) | undefined
  /** Resolves when the claim on `key` is released or after `maxWaitMs`; undefined when nobody holds it. */
  wait (key: string, maxWaitMs: number): Promise<void> | undefined
}

export function createSingleFlight (): SingleFlight {
  const claims = new Map<string, Promise<void>>()
  return {
    claim (key) {
      if (claims.has(key)) return undefined
      let settle = noop
      const claim = new Promise<void>((resolve) => { settle = resolve })
      claims.set(key, claim)
      let released = false
      return () => {
        if (released) return
        released = true
        if (claims.get(key) === claim) claims.delete(key)
        settle()
      }
    },
    wait (key, maxWaitMs) {
      const claim = claims.get(key)
      return claim === undefined ? undefined : waitAtMost(claim, maxWaitMs)
    }
  }
}

// Private:

function noop (): void {}

/** Resolves when `work` settles or after `ms`, whichever is first; never rejects. */
function waitAtMost (work: Promise<void>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms)
    timer.unref()
    work.then(() => { clearTimeout(timer); resolve() }, () => { clearTimeout(timer); resolve() })
  })
}
