/** Our own: expiry spread so that what was cached together is not read again together. */

/**
 * A cached thing's lifetime: between half the TTL and the TTL, at random. Rows (and verified
 * tokens) read together — a cold start, a flush after the bus was lost — would otherwise all
 * expire in the same millisecond and be read again at once, a spike in the tail one TTL later
 * (docs/performance.md, "Figures behind the code"). The bound (never longer than the TTL)
 * holds; the cost is a read again after 75 % of the TTL on average.
 */
export function spreadTtl (ttlMs: number, random = Math.random()): number {
  return Math.max(1, Math.ceil(ttlMs * (1 - TTL_SPREAD * random)))
}

// Private:

const TTL_SPREAD = 0.5
