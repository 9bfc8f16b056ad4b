/**
 * What metrics and tracing read of the query gateway: its statements as they finish, and its
 * pool. db/gateway.ts's Database is one; it is declared here so observability, which every
 * layer uses, imports nothing above it.
 */
export interface StatementEvent {
  name: string
  durationMs: number
  ok: boolean
  /** The statement's text with `$n` placeholders, values left out; absent for a transaction. */
  text?: string
}

export type StatementObserver = (event: StatementEvent) => void

export interface ObservedDatabase {
  readonly pool: { readonly totalCount: number, readonly idleCount: number, readonly waitingCount: number }
  /** Connections the pool may open (DB_POOL_MAX). */
  readonly poolMax: number
  /** Adds an observer called after every statement; returns its removal. */
  observe (observer: StatementObserver): () => void
}

/** Called once per DataLoader batch dispatched, with the loader's name and the batch's size. */
export type BatchObserver = (loader: string, size: number) => void
