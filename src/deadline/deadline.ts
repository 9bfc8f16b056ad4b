/**
 * A request's time budget and the AbortSignal that fires when it runs out.
 *
 * Our own code: no library propagates one budget through HTTP, GraphQL and SQL. A child
 * deadline (GraphQL inside HTTP) takes the smaller of its own budget and what its parent has
 * left, aborts when the parent aborts, and is disposed with it. Each deadline names its layer
 * ('http', 'graphql'); a TIMEOUT error says which layer ran out, and the whole tree reports at
 * most one timeout (per request) to `onTimeout`, which feeds jotter_timeouts_total{layer}.
 */
import { setMaxListeners } from 'node:events'
import { apiError, ApiError } from '../errors.ts'

export interface Deadline {
  /** Epoch milliseconds (performance clock) at which the budget is spent. */
  readonly expiresAt: number
  readonly signal: AbortSignal
  /** The layer this budget belongs to: 'http', 'graphql'. */
  readonly layer: string
  remainingBudgetMs (): number
  /** Throws TIMEOUT if the budget is spent or the signal fired (client gone). */
  throwIfExpired (layer: string): void
  /** The TIMEOUT error for a budget that ran out at `layer` (reported once per request). */
  timeoutError (layer: string): ApiError
  /** A deadline that ends at the earlier of this one's end and budgetMs from now. */
  child (budgetMs: number, layer?: string): Deadline
  /** Stops the timer (and the children's); call when the work it guards is done. */
  dispose (): void
}

export interface DeadlineOptions {
  layer?: string
  /** Called at most once per deadline tree, with the layer of the first timeout. */
  onTimeout?: (layer: string) => void
}

export function createDeadline (budgetMs: number, parent?: AbortSignal, options: DeadlineOptions = {}): Deadline {
  const tree: TreeState = { reported: false, onTimeout: options.onTimeout }
  return createDeadlineAt(performance.now() + budgetMs, parent, options.layer ?? 'http', tree)
}

/** A deadline that never fires: scripts, migrations, warm-up. */
export const noDeadline: Deadline = {
  expiresAt: Number.POSITIVE_INFINITY,
  signal: new AbortController().signal,
  layer: 'none',
  remainingBudgetMs: () => Number.POSITIVE_INFINITY,
  throwIfExpired: () => {},
  timeoutError: (layer) => timeout(layer),
  child: (budgetMs, layer) => createDeadline(budgetMs, undefined, { layer }),
  dispose: () => {}
}

// Private:

interface TreeState {
  reported: boolean
  onTimeout: ((layer: string) => void) | undefined
}

function createDeadlineAt (expiresAt: number, parent: AbortSignal | undefined, layer: string, tree: TreeState): Deadline {
  const controller = new AbortController()
  // Every statement in flight listens for the abort (to cancel itself): a request with many
  // parallel statements is normal, not the leak Node's default limit of 10 warns about.
  setMaxListeners(0, controller.signal)
  const children = new Set<Deadline>()
  const onParentAbort = (): void => controller.abort(parent?.reason)
  if (parent?.aborted) controller.abort(parent.reason)
  else parent?.addEventListener('abort', onParentAbort, { once: true })
  const delay = Math.max(0, expiresAt - performance.now())
  // unref: a pending budget must never keep the process alive during shutdown.
  const timer = setTimeout(() => controller.abort(timeout(layer)), delay)
  timer.unref()
  // Once aborted (client gone, parent expired) the timer has nothing left to do.
  controller.signal.addEventListener('abort', () => clearTimeout(timer), { once: true })

  const deadline: Deadline = {
    expiresAt,
    signal: controller.signal,
    layer,
    remainingBudgetMs: () => Math.max(0, expiresAt - performance.now()),
    throwIfExpired (caller) {
      if (controller.signal.aborted || performance.now() >= expiresAt) throw deadline.timeoutError(caller)
    },
    timeoutError (fallbackLayer) {
      // The layer whose budget actually ran out: the abort reason names it (an HTTP budget
      // that expired first aborts the GraphQL child with the HTTP layer's error).
      const reason = controller.signal.reason as unknown
      const expiredLayer = reason instanceof ApiError && reason.code === 'TIMEOUT'
        ? String(reason.extensions.layer)
        : controller.signal.aborted ? 'client' : performance.now() >= expiresAt ? layer : fallbackLayer
      if (!tree.reported && expiredLayer !== 'client') {
        tree.reported = true
        tree.onTimeout?.(expiredLayer)
      }
      return timeout(expiredLayer)
    },
    child (budgetMs, childLayer = `${layer}.child`) {
      const child = createDeadlineAt(Math.min(expiresAt, performance.now() + budgetMs), controller.signal, childLayer, tree)
      children.add(child)
      return child
    },
    dispose () {
      clearTimeout(timer)
      parent?.removeEventListener('abort', onParentAbort)
      for (const child of children) child.dispose()
      children.clear()
    }
  }
  return deadline
}

function timeout (layer: string): ApiError {
  return apiError('TIMEOUT', 'The request ran out of time.', { layer })
}
