/**
 * The sign-in limits: failed attempts counted per account (the email) and per client address,
 * each executed `login` field one attempt, in one document or a batch alike.
 *
 * - Per account: every attempt is counted before the password is checked (an atomic
 *   increment, so parallel requests cannot slip past the limit); a successful sign-in resets
 *   the count. Over LOGIN_MAX_FAILURES_PER_ACCOUNT the account answers RATE_LIMITED until the
 *   window ends, even with the right password: that is what stops guessing, and it is also
 *   why an attacker can hold one account's sign-ins back for one window (the usual price).
 * - Per client address: failed attempts only (an office behind one address signs in freely);
 *   the attempts of one address run one at a time in a process, so the check and the count
 *   cannot race, and one client cannot fill the libuv pool with argon2 work either.
 * Counters live in ThrottleCounters: Redis when REDIS_URL is set, so every instance counts.
 */
import { hash } from 'node:crypto'
import type { Config } from '../config.ts'
import { apiError, type ApiError } from '../errors.ts'
import type { Count, ThrottleCounters } from './throttle-counters.ts'

export interface LoginThrottle {
  /**
   * Runs `check` (true = signed in) unless the account or the client is over its limit
   * (throws RATE_LIMITED), and counts its outcome.
   */
  attempt (email: string, clientAddress: string, check: () => Promise<boolean>): Promise<boolean>
  /** Counts a failure against the client address alone (a sign-up whose email is taken). */
  attemptByClient (clientAddress: string, work: () => Promise<boolean>): Promise<boolean>
}

type ThrottleConfig = Pick<Config, 'loginMaxFailuresPerAccount' | 'loginMaxFailuresPerClient' | 'loginThrottleWindowMs'>

export function createLoginThrottle (config: ThrottleConfig, counters: ThrottleCounters): LoginThrottle {
  const { loginMaxFailuresPerAccount: accountMax, loginMaxFailuresPerClient: clientMax, loginThrottleWindowMs: windowMs } = config
  const turns = new Map<string, Promise<unknown>>()

  /** One attempt at a time per client address in this process. */
  function inTurn<T> (clientAddress: string, work: () => Promise<T>): Promise<T> {
    const previous = turns.get(clientAddress) ?? Promise.resolve()
    const mine = previous.then(work, work)
    const settled = mine.then(() => {}, () => {})
    turns.set(clientAddress, settled)
    settled.then(() => { if (turns.get(clientAddress) === settled) turns.delete(clientAddress) })
    return mine
  }

  async function checkClient (clientKey: string): Promise<void> {
    if (clientMax === 0) return
    const count = await counters.read(clientKey)
    if (count.current >= clientMax) throw rateLimited(count, 'from this address')
  }

  async function countClientFailure (clientKey: string): Promise<void> {
    if (clientMax > 0) await counters.increment(clientKey, windowMs)
  }

  return {
    attempt (email, clientAddress, check) {
      const clientKey = `login:client:${clientAddress}`
      return inTurn(clientAddress, async () => {
        await checkClient(clientKey)
        const accountKey = `login:account:${hash('sha256', email.toLowerCase(), 'base64url')}`
        if (accountMax > 0) {
          const count = await counters.increment(accountKey, windowMs)
          if (count.current > accountMax) throw rateLimited(count, 'for this account')
        }
        const signedIn = await check()
        if (signedIn) {
          if (accountMax > 0) await counters.reset(accountKey)
        } else {
          await countClientFailure(clientKey)
        }
        return signedIn
      })
    },

    attemptByClient (clientAddress, work) {
      const clientKey = `login:client:${clientAddress}`
      return inTurn(clientAddress, async () => {
        await checkClient(clientKey)
        const failed = await work()
        if (failed) await countClientFailure(clientKey)
        return failed
      })
    }
  }
}

/** Whole seconds a client is told to wait: at least 1, as Retry-After wants. */
export function retryAfterSeconds (ttlMs: number): number {
  return Math.max(1, Math.ceil(ttlMs / 1000))
}

// Private:

function rateLimited (count: Count, what: string): ApiError {
  const seconds = retryAfterSeconds(count.ttlMs)
  return apiError('LOGIN_THROTTLED', { scope: what, seconds })
}
