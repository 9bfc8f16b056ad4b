/**
 * Process entry: cluster, listen, graceful close, nothing else.
 * WORKERS=1 serves from this process; WORKERS=N forks N workers sharing the port.
 */
import cluster from 'node:cluster'
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.ts'
import { ConfigError, loadConfig } from './config.ts'

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

  if (config.workers > 1 && cluster.isPrimary) {
    for (let i = 0; i < config.workers; i++) cluster.fork()
    cluster.on('exit', (worker, code, signal) => {
      if (code !== 0 && !signal) console.error(`jotter: worker ${worker.process.pid} exited with ${code}`)
    })
    return
  }

  const app = await buildApp(config)
  closeWithGrace({ delay: config.shutdownGraceMs }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'closing after an error')
    else app.log.info({ signal }, 'closing: finishing in-flight requests')
    await app.close()
  })
  await app.listen({ port: config.port, host: config.host })
  app.log.info(`Jotter ready: http://${config.host}:${config.port}/graphql` + (config.production ? '' : ` (GraphiQL: http://${config.host}:${config.port}/graphiql)`))
}

main().catch((error) => {
  console.error('jotter: failed to start:', error)
  process.exit(1)
})
