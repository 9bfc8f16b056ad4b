/**
 * Statements on one pg.Client, one at a time and in order. The invalidation bus's heartbeat
 * and its sync markers share the listening connection, and node-postgres deprecates sending a
 * query while another runs on the same client (it queues them today; pg 9 will not).
 */
import type pg from 'pg'

/** `text` on `client` once every statement sent before it through here has been answered. */
export function queryInTurn (client: pg.Client, text: string, values?: unknown[]): Promise<unknown> {
  const answered = (lastSent.get(client) ?? Promise.resolve()).then(() => client.query(text, values))
  lastSent.set(client, answered.catch(() => {}))
  return answered
}

// Private:

/** Per client, its last statement's settling (weak: an ended client takes its entry with it). */
const lastSent = new WeakMap<pg.Client, Promise<unknown>>()
