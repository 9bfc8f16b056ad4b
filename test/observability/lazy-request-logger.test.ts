/**
 * request.log as a child made on first use: nothing is made for a request that never logs,
 * and a request that does log writes exactly what Fastify's own child would (its bindings,
 * redaction, level).
 */
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import type { FastifyBaseLogger } from 'fastify'
import { lazyChildLoggerFactory } from '../../src/observability/lazy-request-logger.ts'
import { createLogger } from '../../src/observability/logger.ts'

/** The app's logger writing into `lines`, seen through a proxy that counts child() calls. */
function rootLogger () {
  const lines: Array<Record<string, unknown>> = []
  const stream = new Writable({ write (chunk, _encoding, done) { lines.push(JSON.parse(String(chunk))); done() } })
  const root = createLogger({ logLevel: 'info', logFormat: 'json' }, stream) as unknown as FastifyBaseLogger
  let made = 0
  const counting = new Proxy(root, {
    get (target, property, receiver) {
      if (property === 'child') return (...args: Parameters<FastifyBaseLogger['child']>) => { made++; return target.child(...args) }
      return Reflect.get(target, property, receiver)
    }
  })
  return { lines, stream, counting, children: () => made }
}

test('no child is made until the request logs; then it writes with its bindings and redaction', () => {
  const { lines, counting, children } = rootLogger()
  const log = lazyChildLoggerFactory(counting, { reqId: 'r-1' }, {})
  assert.equal(log.level, 'info', 'the level is read without making the child')
  log.debug('below the level')
  assert.equal(children(), 1, 'the first call makes the child')
  assert.equal(lines.length, 0)
  log.info({ authorization: 'Bearer secret' }, 'hello')
  log.error('second')
  assert.equal(children(), 1, 'and only once')
  assert.deepEqual(lines.map((line) => [line.reqId, line.msg]), [['r-1', 'hello'], ['r-1', 'second']])
  assert.equal(lines[0].authorization, '[redacted]')
  assert.equal((log as unknown as { isLevelEnabled (level: string): boolean }).isLevelEnabled('debug'), false)
})

test('a request that never logs makes no child at all', () => {
  const { lines, counting, children } = rootLogger()
  for (let index = 0; index < 100; index++) lazyChildLoggerFactory(counting, { reqId: `r-${index}` }, {})
  assert.equal(children(), 0)
  assert.equal(lines.length, 0)
})
