/**
 * Our own: the invalidation bus's sync markers. A caller of `wait` is released once a marker
 * sent after the call has come back on the listening connection: notifications arrive in
 * commit order, so by then every change committed before the call has been applied. One
 * marker is in flight at a time; callers meanwhile share the next one: a marker per mutation
 * would queue on the one listening connection and delay its heartbeat under a write load. A
 * marker that does not come back within `patienceMs` means the connection does not deliver:
 * `lose` is called for the connection it was sent on.
 */
export interface SyncMarkers {
  /** Calls `done` once a marker sent after this call has come back (or on releaseAll). */
  wait (done: () => void): void
  /** True when `payload` is a marker (of any process); this process's own releases its waiters. */
  received (payload: string | undefined): boolean
  /** Releases every waiter now (the connection was lost, or the bus closed). */
  releaseAll (): void
}

/** A sent marker: the query that carries it, and how to give up on its connection. */
export interface SentMarker {
  readonly query: Promise<unknown>
  lose (error: Error): void
}

export interface SyncMarkerOptions {
  /** Sends `payload` with pg_notify on the listening connection; undefined when there is none. */
  send (payload: string): SentMarker | undefined
  patienceMs: number
}

export function createSyncMarkers ({ send, patienceMs }: SyncMarkerOptions): SyncMarkers {
  // Markers in flight: id → what to do when it arrives. The prefix tells this process's
  // markers from others'.
  const inFlight = new Map<string, () => void>()
  let nextBatch: Array<() => void> = []
  let sending = false
  const prefix = `${process.pid}-${Math.random().toString(36).slice(2, 8)}:`
  let nextId = 0

  function sendNext (): void {
    if (sending || nextBatch.length === 0) return
    const waiters = nextBatch
    nextBatch = []
    const id = prefix + nextId++
    const sent = send(JSON.stringify({ marker: id }))
    if (sent === undefined) {
      for (const done of waiters) done()
      return
    }
    sending = true
    const overdue = setTimeout(() => sent.lose(new Error(`sync marker not delivered within ${patienceMs} ms`)), patienceMs).unref()
    inFlight.set(id, () => {
      clearTimeout(overdue)
      inFlight.delete(id)
      sending = false
      for (const done of waiters) done()
      sendNext()
    })
    sent.query.catch(() => inFlight.get(id)?.())
  }

  return {
    wait (done) {
      nextBatch.push(done)
      sendNext()
    },
    received (payload) {
      const marker = markerOf(payload)
      if (marker === undefined) return false
      inFlight.get(marker)?.()
      return true
    },
    releaseAll () {
      for (const arrived of [...inFlight.values()]) arrived()
    }
  }
}

// Private:

/** A sync marker's id, or undefined for a change (markers are tiny: no JSON parse needed to tell). */
function markerOf (payload: string | undefined): string | undefined {
  if (payload === undefined || !payload.startsWith('{"marker":')) return undefined
  try {
    return (JSON.parse(payload) as { marker?: string }).marker
  } catch {
    return undefined
  }
}
