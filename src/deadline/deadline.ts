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
  /** Aborts now (client gone): the signal fires and every later check throws TIMEOUT. */
  abort (reason: unknown): void
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
  abort: () => {},
  dispose: () => {}
}

// Private:

interface TreeState {
  reported: boolean
  onTimeout: ((layer: string) => void) | undefined
}

function createDeadlineAt (expiresAt: number, parent: AbortSignal | undefined, layer: string, tree: TreeState): Deadline {
  // Lazy by design (measured: AbortController, its EventTarget listeners and the timer were
  // ~8 % of a busy server's CPU): most requests are answered from a cache or run no SQL and
  // never look at `signal`. The controller and its timer are made when `signal` is first read;
  // until then expiry is checked against the clock and an abort is only remembered.
  let controller: AbortController | undefined
  let timer: NodeJS.Timeout | undefined
  let aborted = false
  let abortReason: unknown
  const children = new Set<ReturnType<typeof createDeadlineAt>>()

  function abort (reason: unknown): void {
    if (aborted) return
    aborted = true
    abortReason = reason
    clearTimeout(timer)
    controller?.abort(reason)
    for (const child of children) child.abort(reason)
  }
  const onParentAbort = (): void => abort(parent?.reason)
  if (parent?.aborted) abort(parent.reason)
  else parent?.addEventListener('abort', onParentAbort, { once: true })

  const deadline = {
    expiresAt,
    layer,
    abort,
    get signal (): AbortSignal {
      if (controller === undefined) {
        controller = new AbortController()
        // Every statement in flight listens for the abort (to cancel itself): a request with
        // many parallel statements is normal, not the leak Node's limit of 10 warns about.
        setMaxListeners(0, controller.signal)
        if (aborted) controller.abort(abortReason)
        else {
          // unref: a pending budget must never keep the process alive during shutdown.
          timer = setTimeout(() => abort(timeout(layer)), Math.max(0, expiresAt - performance.now()))
          timer.unref()
        }
      }
      return controller.signal
    },
    remainingBudgetMs: () => Math.max(0, expiresAt - performance.now()),
    throwIfExpired (caller: string) {
      if (aborted || performance.now() >= expiresAt) throw deadline.timeoutError(caller)
    },
    timeoutError (fallbackLayer: string) {
      // The layer whose budget actually ran out: the abort reason names it (an HTTP budget
      // that expired first aborts the GraphQL child with the HTTP layer's error).
      const expiredLayer = abortReason instanceof ApiError && abortReason.code === 'TIMEOUT'
        ? String(abortReason.extensions.layer)
        : aborted ? 'client' : performance.now() >= expiresAt ? layer : fallbackLayer
      if (!tree.reported && expiredLayer !== 'client') {
        tree.reported = true
        tree.onTimeout?.(expiredLayer)
      }
      return timeout(expiredLayer)
    },
    child (budgetMs: number, childLayer = `${layer}.child`) {
      const child = createDeadlineAt(Math.min(expiresAt, performance.now() + budgetMs), undefined, childLayer, tree)
      // The child ends no later than this deadline, so its own timer covers this one's expiry;
      // an explicit abort (client gone) reaches it through `children`.
      if (aborted) child.abort(abortReason)
      else children.add(child)
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
