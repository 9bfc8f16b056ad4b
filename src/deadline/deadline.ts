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
  /** When the budget is spent, on the performance.now() clock (milliseconds since the process started). */
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

function createDeadlineAt (expiresAt: number, parent: AbortSignal | undefined, layer: string, tree: TreeState): LazyDeadline {
  const deadline = new LazyDeadline(expiresAt, layer, tree)
  if (parent !== undefined) deadline.follow(parent)
  return deadline
}

/**
 * Lazy by design (AbortController, its EventTarget listeners and the timer are a measurable
 * share of a busy server's CPU: docs/performance.md, "Figures behind the code"): most
 * requests are answered from a cache or run no SQL and never look at `signal`. The controller and its timer are made when `signal` is first read;
 * until then expiry is checked against the clock and an abort is only remembered.
 * A class, not a closure per method: two deadlines per request are on the hot path, and the
 * methods then live once on the prototype (measured in `npm run bench:cache`).
 */
class LazyDeadline implements Deadline {
  readonly expiresAt: number
  readonly layer: string
  private readonly tree: TreeState
  private controller: AbortController | undefined
  private timer: NodeJS.Timeout | undefined
  private aborted = false
  private abortReason: unknown
  private children: Set<LazyDeadline> | undefined
  private parent: AbortSignal | undefined
  private onParentAbort: (() => void) | undefined

  constructor (expiresAt: number, layer: string, tree: TreeState) {
    this.expiresAt = expiresAt
    this.layer = layer
    this.tree = tree
  }

  /** Aborts with `parent` (a caller's signal): only deadlines made with one pay for the listener. */
  follow (parent: AbortSignal): void {
    if (parent.aborted) return this.abort(parent.reason)
    this.parent = parent
    this.onParentAbort = () => this.abort(parent.reason)
    parent.addEventListener('abort', this.onParentAbort, { once: true })
  }

  get signal (): AbortSignal {
    if (this.controller === undefined) {
      const controller = this.controller = new AbortController()
      // Every statement in flight listens for the abort (to cancel itself): a request with
      // many parallel statements is normal, not the leak Node's limit of 10 warns about.
      setMaxListeners(0, controller.signal)
      if (this.aborted) controller.abort(this.abortReason)
      else {
        // unref: a pending budget must never keep the process alive during shutdown.
        this.timer = setTimeout(() => this.abort(timeout(this.layer)), Math.max(0, this.expiresAt - performance.now()))
        this.timer.unref()
      }
    }
    return this.controller.signal
  }

  remainingBudgetMs (): number {
    return Math.max(0, this.expiresAt - performance.now())
  }

  throwIfExpired (caller: string): void {
    if (this.aborted || performance.now() >= this.expiresAt) throw this.timeoutError(caller)
  }

  timeoutError (fallbackLayer: string): ApiError {
    // The layer whose budget actually ran out: the abort reason names it (an HTTP budget
    // that expired first aborts the GraphQL child with the HTTP layer's error).
    const reason = this.abortReason
    const expiredLayer = reason instanceof ApiError && reason.code === 'TIMEOUT'
      ? String(reason.extensions.layer)
      : this.aborted ? 'client' : performance.now() >= this.expiresAt ? this.layer : fallbackLayer
    if (!this.tree.reported && expiredLayer !== 'client') {
      this.tree.reported = true
      this.tree.onTimeout?.(expiredLayer)
    }
    return timeout(expiredLayer)
  }

  child (budgetMs: number, childLayer = `${this.layer}.child`): Deadline {
    const child = new LazyDeadline(Math.min(this.expiresAt, performance.now() + budgetMs), childLayer, this.tree)
    // The child ends no later than this deadline, so its own timer covers this one's expiry;
    // an explicit abort (client gone) reaches it through `children`.
    if (this.aborted) child.abort(this.abortReason)
    else (this.children ??= new Set()).add(child)
    return child
  }

  abort (reason: unknown): void {
    if (this.aborted) return
    this.aborted = true
    this.abortReason = reason
    clearTimeout(this.timer)
    this.controller?.abort(reason)
    if (this.children !== undefined) for (const child of this.children) child.abort(reason)
  }

  dispose (): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    if (this.onParentAbort !== undefined) this.parent?.removeEventListener('abort', this.onParentAbort)
    if (this.children !== undefined) {
      for (const child of this.children) child.dispose()
      this.children.clear()
    }
  }
}

function timeout (layer: string): ApiError {
  return apiError('TIMEOUT', { layer })
}
