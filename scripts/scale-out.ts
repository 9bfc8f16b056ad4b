/**
 * `npm run scale-out -- --instances N --port P [--pool-size 20] [--data-dir DIR]`
 *
 * The scale-out topology on this machine: PostgreSQL (DATABASE_URL, else embedded), PgBouncer
 * in transaction pooling mode, Redis (REDIS_URL, else a redis-server), N Jotter instances and
 * HAProxy on P, each on its own port. Prints every part's name, port and pid, then READY once
 * /health/ready answers through HAProxy; SIGTERM or SIGINT (Ctrl-C) stops everything it
 * started, HAProxy first. The instances take their configuration from this environment
 * (DB_POOL_MAX, CACHE_*, …); see docs/deployment.md for what each part needs.
 * Exit code: 0 after a clean stop, 1 when a part failed to start, 2 on bad usage.
 */
import { parseArgs } from 'node:util'
import { exitWith, positive, UsageError } from '../bench/cli-flags.ts'
import { scaleOutDefaults, startScaleOut, type PartInfo } from './scale-out/topology.ts'

async function main (argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      instances: { type: 'string', default: String(scaleOutDefaults.instances) },
      port: { type: 'string', default: '8080' },
      'pool-size': { type: 'string', default: String(scaleOutDefaults.poolSize) },
      'data-dir': { type: 'string' }
    }
  })
  const instances = wholeNumber('--instances', values.instances!)
  const port = wholeNumber('--port', values.port!, 0)
  if (port > 65535) throw new UsageError(`--port must be at most 65535: ${port}`)
  const log = (line: string): void => { process.stderr.write(`scale-out: ${line}\n`) }

  // A signal while the parts are still starting must stop them too, once they are up.
  let signalled: NodeJS.Signals | undefined
  let onSignal = (signal: NodeJS.Signals): void => { signalled = signal }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => onSignal(signal))

  let topology
  try {
    topology = await startScaleOut({
      instances,
      port,
      databaseUrl: process.env.DATABASE_URL || undefined,
      redisUrl: process.env.REDIS_URL || undefined,
      dataDir: values['data-dir'],
      poolSize: wholeNumber('--pool-size', values['pool-size']!),
      log
    })
  } catch (error) {
    log(`failed to start: ${(error as Error).message}`)
    return 1
  }
  const stopped = new Promise<NodeJS.Signals>((resolve) => { onSignal = resolve })
  if (signalled !== undefined) onSignal(signalled)
  else {
    process.stdout.write(formatParts(topology.parts()))
    process.stdout.write(`READY ${topology.graphqlUrl} (HAProxy stats and drain: see docs/deployment.md)\n`)
  }
  const signal = await stopped
  log(`${signal}: stopping HAProxy, then the instances (draining), PgBouncer, Redis, PostgreSQL`)
  await topology.stop()
  log('stopped')
  return 0
}

function formatParts (parts: PartInfo[]): string {
  const width = Math.max(...parts.map((part) => part.name.length))
  return parts.map((part) => `${part.name.padEnd(width)}  port ${String(part.port).padEnd(5)}  pid ${part.pid ?? '(external, not started here)'}\n`).join('')
}

function wholeNumber (flag: string, raw: string, min = 1): number {
  const value = positive(flag, raw, min === 0)
  if (!Number.isSafeInteger(value) || value < min) throw new UsageError(`${flag} must be an integer of at least ${min}: ${JSON.stringify(raw)}`)
  return value
}

if (import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  exitWith('scale-out', main(process.argv.slice(2)))
}
