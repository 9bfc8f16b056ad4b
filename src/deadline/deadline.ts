/**
 * A request's time budget and the AbortSignal that fires when it runs out.
 *
 * Our own code: no library propagates one budget through HTTP, GraphQL and SQL. A child
 * deadline (GraphQL inside HTTP, a statement inside GraphQL) takes the smaller of its own
 * budget and what its parent has left, and aborts when the parent aborts.
 */
import { apiError } from '../errors.ts'

export interface Deadline {
  /** Epoch milliseconds (performance clock) at which the budget is spent. */
  readonly expiresAt: number
  readonly signal: AbortSignal
  remainingBudgetMs (): number
  /** Throws TIMEOUT if the budget is spent or the signal fired (client gone). */
  throwIfExpired (layer: string): void
  /** A deadline that ends at the earlier of this one's end and budgetMs from now. */
  child (budgetMs: number): Deadline
  /** Stops the timer; call when the work it guards is done. */
  dispose (): void
}

export function createDeadline (budgetMs: number, parent?: AbortSignal): Deadline {
  return createDeadlineAt(performance.now() + budgetMs, parent)
}

/** A deadline that never fires: scripts, migrations, warm-up. */
export const noDeadline: Deadline = {
  expiresAt: Number.POSITIVE_INFINITY,
  signal: new AbortController().signal,
  remainingBudgetMs: () => Number.POSITIVE_INFINITY,
  throwIfExpired: () => {},
  child: (budgetMs) => createDeadline(budgetMs),
  dispose: () => {}
}

// Private:

function createDeadlineAt (expiresAt: number, parent: AbortSignal | undefined): Deadline {
  const controller = new AbortController()
  const onParentAbort = (): void => controller.abort(parent?.reason)
  if (parent?.aborted) controller.abort(parent.reason)
  else parent?.addEventListener('abort', onParentAbort, { once: true })
  const delay = Math.max(0, expiresAt - performance.now())
  // unref: a pending budget must never keep the process alive during shutdown.
  const timer = setTimeout(() => controller.abort(apiError('TIMEOUT', 'The request ran out of time.')), delay)
  timer.unref()

  const deadline: Deadline = {
    expiresAt,
    signal: controller.signal,
    remainingBudgetMs: () => Math.max(0, expiresAt - performance.now()),
    throwIfExpired (layer) {
      if (controller.signal.aborted || performance.now() >= expiresAt) {
        throw apiError('TIMEOUT', `The request ran out of time (${layer}).`, { layer })
      }
    },
    child: (budgetMs) => createDeadlineAt(Math.min(expiresAt, performance.now() + budgetMs), controller.signal),
    dispose () {
      clearTimeout(timer)
      parent?.removeEventListener('abort', onParentAbort)
    }
  }
  return deadline
}
