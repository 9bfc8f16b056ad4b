/**
 * One pooled connection borrowed for a statement or a transaction, and the rules that make sure
 * it goes back whole, whatever ends the request.
 *
 * Our own code (node-postgres has no notion of a request's deadline):
 * - Waiting for a connection ends with TIMEOUT when the budget runs out; a connection handed
 *   over after that goes straight back, having run nothing.
 * - PostgreSQL enforces the budget of a running statement itself (`statement_timeout`, see
 *   statement-budget.ts), so a budget that runs out normally ends in 57014 on a connection that
 *   stays usable. If PostgreSQL has not answered within BUDGET_GRACE_MS of the budget running
 *   out, or of the client going away, the connection is destroyed: its socket closes and
 *   PostgreSQL ends the backend, rolling back whatever it had begun
 *   (`client_connection_check_interval` makes it notice while a statement waits on a lock).
 *   The grace matters under overload: clients that give up by the hundred must not each cost
 *   a reconnect (a new PostgreSQL backend) when their statements were about to finish anyway:
 *   destroying at once turns a backlog into a collapse.
 * - A connection whose protocol state is unknown (a socket error, a statement cut off) is
 *   never reused: `release(error)` makes node-postgres's pool destroy it.
 */
import type pg from 'pg'
import { ApiError } from '../errors.ts'
import type { Deadline } from '../deadline/deadline.ts'
import { CANCEL_MARGIN_MS } from './statement-budget.ts'
import type { CompiledStatement } from './sql-template.ts'

export type Row = Record<string, unknown>

/** How long past the budget PostgreSQL's own statement_timeout may take to answer. */
export const BUDGET_GRACE_MS = CANCEL_MARGIN_MS + 50

export interface ConnectionLease {
  readonly client: pg.PoolClient
  /** Set when the connection must be destroyed instead of reused. */
  broken: boolean
  /** Runs one statement on this connection, bounded by `deadline` (see the header). */
  run (statement: CompiledStatement | string, deadline: Deadline | undefined): Promise<Row[]>
  /** Back to the pool, or destroyed when broken. Idempotent. */
  release (): void
}

/** A connection from `pool`, or TIMEOUT when `deadline` ends first. */
export function acquireConnection (pool: pg.Pool, deadline: Deadline): Promise<ConnectionLease> {
  deadline.throwIfExpired('database')
  const { signal } = deadline
  return new Promise((resolve, reject) => {
    let gaveUp = false
    const onAbort = (): void => {
      gaveUp = true
      reject(deadline.timeoutError('database'))
    }
    signal.addEventListener('abort', onAbort, { once: true })
    pool.connect().then((client) => {
      signal.removeEventListener('abort', onAbort)
      // The request stopped waiting: the connection goes back having run nothing.
      if (gaveUp) client.release()
      else resolve(createLease(client))
    }, (error: unknown) => {
      signal.removeEventListener('abort', onAbort)
      if (!gaveUp) reject(error)
    })
  })
}

// Private:

/** True when an error leaves the connection in an unknown state (not a plain SQL error). */
function breaksConnection (error: unknown): boolean {
  if (error instanceof ApiError) return false
  const code = (error as { code?: unknown } | null)?.code
  const isServerError = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) &&
    (error as { severity?: unknown }).severity !== undefined
  // Administrator shutdown and connection-exception classes end the session server-side;
  // 25P02 (a statement sent into an aborted transaction block) means the session is not in the
  // state this process believes: never hand it to another request.
  return !isServerError || code.startsWith('57P') || code.startsWith('08') || code === '25P02'
}

function createLease (client: pg.PoolClient): ConnectionLease {
  let released = false
  const lease: ConnectionLease = {
    client,
    broken: false,

    run (statement, deadline) {
      const running = client.query(statement as pg.QueryConfig).then((result) => result.rows as Row[])
      if (deadline === undefined) return running.catch(markBroken)
      return boundedByDeadline(running.catch(markBroken), deadline, () => { lease.broken = true; lease.release() })
    },

    release () {
      if (released) return
      released = true
      client.release(lease.broken ? new Error('connection left in an unknown state: destroyed') : undefined)
    }
  }

  function markBroken (error: unknown): never {
    if (breaksConnection(error)) lease.broken = true
    throw error
  }
  return lease
}

/**
 * `running`, unless the deadline aborts (budget spent or client gone) and PostgreSQL does not
 * answer within the grace: then TIMEOUT, with the connection destroyed (`destroy`).
 */
function boundedByDeadline (running: Promise<Row[]>, deadline: Deadline, destroy: () => void): Promise<Row[]> {
  const { signal } = deadline
  return new Promise((resolve, reject) => {
    let settled = false
    let grace: NodeJS.Timeout | undefined
    const giveUp = (): void => {
      if (settled) return
      settled = true
      destroy()
      reject(deadline.timeoutError('database'))
    }
    const onAbort = (): void => {
      // Budget spent: PostgreSQL's statement_timeout is about to end the statement cleanly.
      // Client gone: most statements finish within the grace; one waiting on a lock does not.
      grace = setTimeout(giveUp, BUDGET_GRACE_MS)
    }
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, { once: true })
    const finish = (): boolean => {
      signal.removeEventListener('abort', onAbort)
      clearTimeout(grace)
      if (settled) return false
      settled = true
      return true
    }
    running.then((rows) => { if (finish()) resolve(rows) }, (error: unknown) => { if (finish()) reject(error) })
  })
}
