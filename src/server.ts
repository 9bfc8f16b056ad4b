/**
 * Process entry: cluster, listen, graceful close, nothing else.
 * WORKERS=1 serves from this process; WORKERS=N forks N workers sharing the port.
 *
 * SIGTERM/SIGINT (close-with-grace): stop accepting, let in-flight requests finish within
 * SHUTDOWN_GRACE_MS, close the DB pool and Redis (the app's onClose hooks), exit 0; a second
 * signal, or a grace period that runs out, exits 1 at once. The primary of a cluster forwards
 * the signal to every worker and exits once all of them have drained.
 */
import cluster from 'node:cluster'
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.ts'
import { ConfigError, loadConfig, type Config } from './config.ts'
import { serveClusterMetrics } from './observability/cluster-metrics.ts'

async function main (): Promise<void> {
  let config
  try {
    config = loadConfig()
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`jotter: configuration error: ${error.message}`)
      process.exit(2)
    }
    throw error
  }
  if (config.workers > 1 && cluster.isPrimary) runPrimary(config)
  else await runWorker(config)
}

function runPrimary (config: Readonly<Config>): void {
  let stopping = false
  serveClusterMetrics() // a worker's GET /metrics asks here for every worker's metrics
  for (let i = 0; i < config.workers; i++) cluster.fork()
  // A worker still starting has no requests to finish, and may not hear a message yet.
  const listening = new Set<number>()
  cluster.on('listening', (worker) => listening.add(worker.id))
  cluster.on('exit', (worker, code, signal) => {
    if (!stopping && (code !== 0 || signal)) console.error(`jotter: worker ${worker.process.pid} exited with ${code ?? signal}`)
    if (stopping && Object.keys(cluster.workers ?? {}).length === 0) process.exit(0)
  })
  // The primary's grace is a little longer than the workers': they decide, it waits.
  closeWithGrace({ delay: config.shutdownGraceMs + 1000 }, async ({ signal }) => {
    stopping = true
    console.error(`jotter: ${signal ?? 'stop'}: draining ${Object.keys(cluster.workers ?? {}).length} workers`)
    const exited = Object.values(cluster.workers ?? {}).map((worker) => new Promise<void>((resolve) => {
      if (!worker || worker.isDead()) return resolve()
      worker.once('exit', () => resolve())
      if (!listening.has(worker.id)) {
        worker.kill('SIGTERM')
        return
      }
      // A message, not a signal: on Ctrl-C the workers get SIGINT from the terminal too, and a
      // second signal would force them out instead of draining.
      worker.send(SHUTDOWN_MESSAGE)
    }))
    await Promise.all(exited)
  })
}

const SHUTDOWN_MESSAGE = 'jotter:shutdown'

async function runWorker (config: Readonly<Config>): Promise<void> {
  // Listen for the primary's drain message before the (slow) build: one sent while this
  // worker is still starting must not be lost, or the primary would wait out its grace.
  let drainRequested = false
  let drain = (): void => { drainRequested = true }
  process.on('message', (message) => { if (message === SHUTDOWN_MESSAGE) drain() })
  const app = await buildApp(config)
  let closing = false
  const grace = closeWithGrace({
    delay: config.shutdownGraceMs,
    logger: { error: (message: unknown) => app.log.error(message) },
    onSecondSignal: (signal) => { app.log.error({ signal }, 'second signal: exiting now') }
  }, async ({ signal, err }) => {
    closing = true
    if (err) app.log.error({ err }, 'closing after an error')
    else app.log.info({ signal }, 'closing: no new connections, finishing in-flight requests')
    await app.close()
    app.log.info('closed: in-flight requests finished, database pool closed')
  })
  drain = () => { if (!closing) grace.close() }
  if (drainRequested) return drain()
  await app.listen({ port: config.port, host: config.host })
  app.log.info(`Jotter ready: http://${config.host}:${config.port}/graphql` + (config.production ? '' : ` (GraphiQL: http://${config.host}:${config.port}/graphiql)`))
}

main().catch((error) => {
  console.error('jotter: failed to start:', error)
  process.exit(1)
})
