/**
 * Fastify's `childLoggerFactory`: `request.log` becomes a child logger made on first use.
 *
 * Fastify makes a pino child (bindings serialized, redaction re-applied) for every request;
 * most requests never log through it (the request line is written by request-log.ts through
 * the root logger with the same `reqId` field), and on the response-cache hit path the child
 * costs CPU and garbage for nothing (docs/performance.md, "The response-cache hit path"). A
 * request that does log gets the very child Fastify would have made, so the lines are
 * unchanged.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { Bindings, ChildLoggerOptions, LevelWithSilentOrString } from 'pino'

export function lazyChildLoggerFactory (logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  return new LazyChildLogger(logger, bindings, options) as unknown as FastifyBaseLogger
}

// Private:

type LogMethod = (...args: unknown[]) => void

class LazyChildLogger {
  private readonly parent: FastifyBaseLogger
  private readonly bindings: Bindings
  private readonly options: ChildLoggerOptions
  private made: FastifyBaseLogger | undefined

  constructor (parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions) {
    this.parent = parent
    this.bindings = bindings
    this.options = options
  }

  /** The real child, made once. */
  private get real (): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings, this.options))
  }

  get level (): LevelWithSilentOrString { return this.made?.level ?? this.parent.level }
  set level (level: LevelWithSilentOrString) { this.real.level = level }

  fatal (...args: unknown[]): void { this.write('fatal', args) }
  error (...args: unknown[]): void { this.write('error', args) }
  warn (...args: unknown[]): void { this.write('warn', args) }
  info (...args: unknown[]): void { this.write('info', args) }
  debug (...args: unknown[]): void { this.write('debug', args) }
  trace (...args: unknown[]): void { this.write('trace', args) }
  silent (...args: unknown[]): void { this.write('silent', args) }
  private write (level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent', args: unknown[]): void {
    const real = this.real
    ;(real[level] as LogMethod).apply(real, args)
  }

  child (bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger { return this.real.child(bindings, options) }
  isLevelEnabled (level: string): boolean {
    return (this.real as unknown as { isLevelEnabled (level: string): boolean }).isLevelEnabled(level)
  }
}
