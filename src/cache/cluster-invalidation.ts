/**
 * Cache invalidations between the workers of one `WORKERS=N` cluster when there is no Redis:
 * the worker that ran a mutation sends its tags to the primary, the primary hands them to
 * every other worker, and the mutation's response waits until each of them has dropped its
 * entries (or ACK_TIMEOUT_MS passed, or a worker died), so no worker serves a stale read after.
 * With REDIS_URL set, Redis pub/sub does this job (and reaches other machines too).
 *
 * Our own code: node:cluster gives the IPC channel; the relay and its acknowledgements are ours.
 */
import cluster, { type Worker } from 'node:cluster'

export type InvalidatedTags = readonly string[] | 'all'

export interface ClusterInvalidation {
  /** Resolves once every other worker has applied the invalidation. */
  publish (tags: InvalidatedTags): Promise<void>
  close (): void
}

const ACK_TIMEOUT_MS = 1000

type Message =
  | { type: 'jotter:invalidate', id: number, tags: InvalidatedTags }
  | { type: 'jotter:invalidate-ack', id: number }
  | { type: 'jotter:invalidate-done', id: number }

/** In a cluster worker: the relay; anywhere else: undefined (one process needs none). */
export function joinClusterInvalidation (apply: (tags: InvalidatedTags) => void): ClusterInvalidation | undefined {
  if (!cluster.isWorker || process.send === undefined) return undefined
  let nextId = 0
  const waiting = new Map<number, () => void>()
  const onMessage = (message: Message): void => {
    if (message?.type === 'jotter:invalidate') {
      apply(message.tags)
      process.send!({ type: 'jotter:invalidate-ack', id: message.id })
    } else if (message?.type === 'jotter:invalidate-done') {
      waiting.get(message.id)?.()
    }
  }
  process.on('message', onMessage)
  return {
    publish (tags) {
      const id = nextId++
      return new Promise<void>((resolve) => {
        const done = (): void => { clearTimeout(timer); waiting.delete(id); resolve() }
        const timer = setTimeout(done, ACK_TIMEOUT_MS + 500)
        waiting.set(id, done)
        process.send!({ type: 'jotter:invalidate', id, tags } satisfies Message)
      })
    },
    close () {
      process.off('message', onMessage)
      for (const done of waiting.values()) done()
    }
  }
}

/** In the primary: relays each worker's invalidations to the others and reports when applied. */
export function relayClusterInvalidations (): void {
  let nextRelayId = 0
  // relay id → what is still awaited
  const pending = new Map<number, { origin: Worker, originId: number, awaiting: Set<number>, timer: NodeJS.Timeout }>()
  const finish = (relayId: number): void => {
    const entry = pending.get(relayId)
    if (entry === undefined) return
    pending.delete(relayId)
    clearTimeout(entry.timer)
    if (!entry.origin.isDead()) entry.origin.send({ type: 'jotter:invalidate-done', id: entry.originId } satisfies Message)
  }

  cluster.on('message', (worker, message: Message) => {
    if (message?.type === 'jotter:invalidate') {
      const others = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && w !== worker && !w.isDead())
      const relayId = nextRelayId++
      pending.set(relayId, {
        origin: worker,
        originId: message.id,
        awaiting: new Set(others.map((w) => w.id)),
        timer: setTimeout(() => finish(relayId), ACK_TIMEOUT_MS)
      })
      for (const other of others) other.send({ type: 'jotter:invalidate', id: relayId, tags: message.tags } satisfies Message)
      if (others.length === 0) finish(relayId)
    } else if (message?.type === 'jotter:invalidate-ack') {
      const entry = pending.get(message.id)
      entry?.awaiting.delete(worker.id)
      if (entry?.awaiting.size === 0) finish(message.id)
    }
  })
  // A worker that died acknowledges nothing more: stop waiting for it.
  cluster.on('exit', (worker) => {
    for (const [relayId, entry] of pending) {
      entry.awaiting.delete(worker.id)
      if (entry.awaiting.size === 0) finish(relayId)
    }
  })
}
