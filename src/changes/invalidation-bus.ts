/**
 * The invalidation bus: the one way any cache of this process learns that data changed.
 *
 * Two sources and two waits, one fan-out:
 *  - PostgreSQL: the triggers of migrations/002 `pg_notify` every committed change, whoever
 *    made it (any process, psql, a migration). This process LISTENs on a connection of its
 *    own (node-postgres `pg.Client`, not the pool: a pooled connection is shared and, behind
 *    PgBouncer's transaction pooling, LISTEN does not work at all; hence DATABASE_LISTEN_URL).
 *  - `announce`: the writer's own mutation, applied here at once, before its response leaves
 *    (read-your-writes); every other process hears of it from PostgreSQL a moment later.
 *  - `awaitCommits`: the writer then waits (bounded) until its own commits' notifications
 *    have come back (each names its transaction: migrations/004), so that what the triggers
 *    name beyond the resolvers' tags is applied here before its response leaves too.
 *  - `sync`: waits until every change committed before the call has been applied: it sends
 *    a marker with pg_notify on the listening connection, and notifications arrive in commit
 *    order, so when the marker arrives everything committed before it has been. For a write
 *    whose transaction id is unknown, and for the pause guard below.
 *
 * While the bus is not listening (not yet connected, connection lost, heartbeat unanswered)
 * `listening` is false and every cache serves nothing and stores nothing: notifications may
 * be missed meanwhile. On the loss and again once listening, every subscriber is cleared. The
 * bus reconnects by itself with jittered exponential backoff.
 *
 * A process that was paused (SIGSTOP, a frozen VM or container, a debugger) or whose event loop
 * was blocked may wake with notifications unread in the listening socket and a request waiting
 * in another: node may serve the request first, from caches that missed those changes. So the
 * bus notes when timers last ran (a tick every PAUSE_TICK_MS); a lookup or a tick that finds
 * the last tick older than PAUSE_LIMIT_MS clears every subscriber and reports not listening
 * until a sync marker has come back, i.e. until every notification sent before it was read.
 *
 * Our own code on pg's public API: Client, LISTEN, the 'notification' / 'error' / 'end' events.
 */
import type { FastifyBaseLogger } from 'fastify'
import pg from 'pg'
import { createCommitWaiters } from './commit-waiters.ts'
import { changeOf, INVALIDATION_CHANNEL } from './database-changes.ts'
import type { ClearReason, InvalidationListener } from './invalidation-listener.ts'
import { queryInTurn } from './query-in-turn.ts'
import { createSyncMarkers } from './sync-markers.ts'

export interface InvalidationBus {
  /** True while this process is sure to hear of every change: caches may serve and store. */
  readonly listening: boolean
  /** Subscribers are called in subscription order (the race tracker first). */
  subscribe (listener: InvalidationListener): void
  /** This process's own change: applied to every subscriber now, synchronously. */
  announce (tags: readonly string[] | 'all'): void
  /**
   * Resolves once every change committed before the call has been applied to this process's
   * subscribers, or after `timeoutMs`, or at once when not listening (caches are bypassed).
   */
  sync (timeoutMs: number): Promise<void>
  /**
   * Resolves once the notifications of these transactions (this process's own commits) have
   * been applied, or after `timeoutMs`, or at once when not listening. No query is sent.
   */
  awaitCommits (transactionIds: readonly string[], timeoutMs: number): Promise<void>
  /** Resolves true once listening (at once if already), false after `timeoutMs`. */
  whenListening (timeoutMs: number): Promise<boolean>
  close (): Promise<void>
}

export interface BusObserver {
  /** A notification was applied: its delay from the trigger's clock to now (ms), if known. */
  onNotification? (delayMs: number | undefined): void
  onListeningChange? (listening: boolean): void
  /** A writer's wait for its own commits (`awaitCommits`) or a marker (`sync`) ended after `waitedMs`. */
  onOwnCommitWait? (waitedMs: number): void
}

export interface InvalidationBusOptions {
  /** Where to LISTEN; read at each (re)connection. */
  url: string
  log: FastifyBaseLogger
  /** A heartbeat runs this often on the listening connection; unanswered = lost (CACHE_BUS_HEARTBEAT_MS). */
  heartbeatMs: number
  observer?: BusObserver
  /** First reconnection delay (doubles up to maxRetryDelayMs, jittered). */
  retryBaseDelayMs?: number
  maxRetryDelayMs?: number
}

/** Heartbeat intervals a beat may take to be answered before the connection counts as lost. */
const HEARTBEAT_PATIENCE = 3
/** How often the pause guard notes that timers run, and how old that note may be. */
export const PAUSE_TICK_MS = 100
export const PAUSE_LIMIT_MS = 1000

export function createInvalidationBus ({ url, log, heartbeatMs, observer = {}, retryBaseDelayMs = 100, maxRetryDelayMs = 5000 }: InvalidationBusOptions): InvalidationBus {
  const listeners: InvalidationListener[] = []
  const waiters = new Set<() => void>()
  const markers = createSyncMarkers({
    patienceMs: heartbeatMs * HEARTBEAT_PATIENCE,
    send (payload) {
      const current = client
      if (current === undefined) return undefined
      return {
        query: queryInTurn(current, 'select pg_notify($1, $2)', [INVALIDATION_CHANNEL, payload]),
        lose: (error) => lost(current, error)
      }
    }
  })
  const commits = createCommitWaiters()
  let listening = false
  let closed = false
  let client: pg.Client | undefined
  let heartbeat: NodeJS.Timeout | undefined
  let retry: NodeJS.Timeout | undefined
  let attempt = 0
  let beatPending = false
  // The pause guard: when timers last ran, and whether a wake-up is still being caught up on.
  let lastTick = performance.now()
  let catchingUp = false
  const ticker = setInterval(() => {
    if (performance.now() - lastTick > PAUSE_LIMIT_MS) woke()
    lastTick = performance.now()
  }, PAUSE_TICK_MS).unref()

  const invalidateAll = (tags: readonly string[]): void => { for (const listener of listeners) listener.invalidate(tags) }
  const clearAll = (reason: ClearReason): void => { for (const listener of listeners) listener.clear(reason) }

  function setListening (value: boolean): void {
    if (listening === value) return
    listening = value
    observer.onListeningChange?.(value)
    if (value) for (const wake of waiters) wake()
  }

  function receive (message: pg.Notification): void {
    if (message.channel !== INVALIDATION_CHANNEL) return
    if (markers.received(message.payload)) return
    const change = changeOf(message.payload)
    if (change.tags === 'all') clearAll('changed')
    else invalidateAll(change.tags)
    if (change.commit !== undefined) commits.heard(change.commit)
    observer.onNotification?.(change.madeAtMs === undefined ? undefined : Date.now() - change.madeAtMs)
  }

  async function connect (): Promise<void> {
    retry = undefined
    if (closed) return
    const next = new pg.Client({
      connectionString: url,
      application_name: 'jotter-cache-bus',
      keepAlive: true,
      connectionTimeoutMillis: Math.max(heartbeatMs, 1000)
    })
    client = next
    next.on('notification', receive)
    next.on('error', (error) => lost(next, error))
    next.on('end', () => lost(next, new Error('connection ended')))
    try {
      await next.connect()
      await next.query(`LISTEN ${INVALIDATION_CHANNEL}`)
    } catch (error) {
      lost(next, error)
      return
    }
    if (client !== next || closed) return
    // Changes committed before LISTEN took effect were never heard of: start from nothing.
    clearAll('bus-lost')
    if (attempt > 0) log.info({ attempts: attempt }, 'cache invalidation bus: listening again; caches were flushed')
    attempt = 0
    setListening(true)
    beatPending = false
    heartbeat = setInterval(() => beat(next), heartbeatMs).unref()
  }

  /**
   * A connection cut without a FIN (a partition) gives no 'end': a query must be answered.
   * One beat at a time, and HEARTBEAT_PATIENCE intervals to answer: a busy process (or a busy
   * PostgreSQL on the same core) must not take itself for cut off, since the flush that
   * follows sends every request to the database at the worst moment, and a loaded server may
   * then never catch up.
   */
  function beat (current: pg.Client): void {
    if (beatPending) return
    beatPending = true
    const patienceMs = heartbeatMs * HEARTBEAT_PATIENCE
    const timer = setTimeout(() => lost(current, new Error(`heartbeat unanswered after ${patienceMs} ms`)), patienceMs).unref()
    queryInTurn(current, 'select 1').then(() => { beatPending = false; clearTimeout(timer) }, (error) => { beatPending = false; clearTimeout(timer); lost(current, error) })
  }

  function lost (which: pg.Client, error: unknown): void {
    if (client !== which) return // an old connection's late event
    client = undefined
    clearInterval(heartbeat)
    which.removeAllListeners('notification')
    which.on('error', () => {}) // the ended client may still report its socket's errors
    which.end().catch(() => {})
    const wasListening = listening
    setListening(false)
    markers.releaseAll() // their caches were just flushed anyway
    commits.releaseAll()
    if (wasListening) {
      clearAll('bus-lost')
      log.warn({ err: error }, 'cache invalidation bus: connection lost; caches flushed and bypassed until listening again')
    } else {
      log.debug({ err: error, attempt }, 'cache invalidation bus: not connected')
    }
    if (closed) return
    const delay = Math.round(Math.min(maxRetryDelayMs, retryBaseDelayMs * 2 ** attempt) * (0.5 + Math.random() / 2))
    attempt++
    retry = setTimeout(() => { connect().catch(() => {}) }, delay).unref()
  }

  /** After a pause: forget everything, and serve again once the unread notifications are read. */
  function woke (): void {
    lastTick = performance.now()
    if (!listening || catchingUp) return
    catchingUp = true
    clearAll('bus-lost')
    log.warn({ limitMs: PAUSE_LIMIT_MS }, 'cache invalidation bus: the process did not run for a while; caches flushed until the bus has caught up')
    const caughtUp = (): void => { catchingUp = false }
    if (listening && client !== undefined) markerBack(Math.max(heartbeatMs, 1000)).then(caughtUp)
    else caughtUp()
  }

  /** Resolves once a sync marker sent now has come back, or after `timeoutMs`. */
  function markerBack (timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      let settled = false
      const done = (): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        resolve()
      }
      const timer = setTimeout(done, timeoutMs).unref()
      markers.wait(done)
    })
  }

  /** A writer's wait, reported to the observer when it ends. */
  function timed (wait: Promise<void>): Promise<void> {
    if (observer.onOwnCommitWait === undefined) return wait
    const started = performance.now()
    return wait.then(() => observer.onOwnCommitWait!(performance.now() - started))
  }

  connect().catch(() => {}) // it reports its own failures through lost()

  const bus: InvalidationBus = {
    get listening () {
      if (!listening || catchingUp) return false
      if (performance.now() - lastTick <= PAUSE_LIMIT_MS) return true
      woke()
      return false
    },
    subscribe (listener) { listeners.push(listener) },
    announce (tags) {
      if (tags === 'all') clearAll('changed')
      else if (tags.length > 0) invalidateAll(tags)
    },
    sync (timeoutMs) {
      if (!listening || client === undefined) return Promise.resolve()
      return timed(markerBack(timeoutMs))
    },
    awaitCommits (transactionIds, timeoutMs) {
      if (!listening || client === undefined) return Promise.resolve()
      return timed(commits.wait(transactionIds, timeoutMs))
    },
    whenListening (timeoutMs) {
      if (listening) return Promise.resolve(true)
      return new Promise((resolve) => {
        const wake = (): void => { clearTimeout(timer); waiters.delete(wake); resolve(listening) }
        const timer = setTimeout(wake, timeoutMs).unref()
        waiters.add(wake)
      })
    },
    async close () {
      closed = true
      clearInterval(ticker)
      clearTimeout(retry)
      clearInterval(heartbeat)
      const current = client
      client = undefined
      setListening(false)
      for (const wake of waiters) wake()
      markers.releaseAll()
      commits.releaseAll()
      if (current !== undefined) {
        current.removeAllListeners()
        current.on('error', () => {})
        await current.end().catch(() => {})
      }
    }
  }
  return bus
}
