/**
 * One /metrics for all workers when WORKERS>1. Workers share the port, so a scrape reaches any
 * one of them; that worker asks the primary over cluster IPC, the primary gathers every
 * worker's registry with prom-client's AggregatorRegistry.clusterMetrics() (counters and
 * histograms summed, default metrics aggregated as prom-client defines) and answers.
 *
 * The IPC request/response pair is our own (a few lines); the aggregation is prom-client's.
 * With one process, `metricsSource` is the registry itself.
 */
import cluster from 'node:cluster'
import { AggregatorRegistry, type Registry } from 'prom-client'

/** What GET /metrics needs: the text and its content type. */
export type MetricsSource = Pick<Registry, 'metrics' | 'contentType'>

const REQUEST = 'jotter:cluster-metrics-request'
const RESPONSE = 'jotter:cluster-metrics-response'
/** A bit over prom-client's own 5 s gathering timeout, so its error arrives first. */
const ASK_PRIMARY_TIMEOUT_MS = 6000

/** In the primary (server.ts): answers workers' requests for the aggregated metrics. */
export function serveClusterMetrics (): void {
  const aggregator = new AggregatorRegistry()
  cluster.on('message', (worker, message: { type?: string, id?: number }) => {
    if (message?.type !== REQUEST) return
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: RESPONSE, id: message.id, text }),
      (error: Error) => worker.send({ type: RESPONSE, id: message.id, error: error.message })
    )
  })
}

/** In each process's app: the registry, or in a cluster worker the whole cluster's metrics. */
export function metricsSource (registry: Registry, { workers }: { workers: number }): MetricsSource {
  if (workers <= 1 || !cluster.isWorker) return registry
  // prom-client answers the primary's gathering requests with these registries.
  AggregatorRegistry.setRegistries([registry])
  new AggregatorRegistry() // eslint-disable-line no-new -- its constructor installs the worker's IPC listener
  let nextId = 0
  return {
    contentType: registry.contentType,
    metrics: () => askPrimary(nextId++)
  }
}

// Private:

function askPrimary (id: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`the primary sent no cluster metrics within ${ASK_PRIMARY_TIMEOUT_MS} ms`)), ASK_PRIMARY_TIMEOUT_MS)
    function onMessage (message: { type?: string, id?: number, text?: string, error?: string }): void {
      if (message?.type !== RESPONSE || message.id !== id) return
      finish(message.error === undefined ? undefined : new Error(`cluster metrics: ${message.error}`), message.text)
    }
    function finish (error: Error | undefined, text?: string): void {
      clearTimeout(timer)
      process.off('message', onMessage)
      if (error) reject(error)
      else resolve(text ?? '')
    }
    process.on('message', onMessage)
    process.send!({ type: REQUEST, id })
  })
}
