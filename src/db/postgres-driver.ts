/**
 * postgres.js as the app uses it: the package's CommonJS build, with the teardown of a closed
 * connection fixed when it is loaded (3.4.9, the latest release, leaves state behind there).
 *
 * A pooled connection object outlives its socket: when the socket closes, closed() reconnects
 * the same object later. Three things it keeps from the dead socket break the new one:
 * - A buffered write. Small writes are flushed from a setImmediate (`nextWriteTimer`); closed()
 *   and terminate() cancel it but leave `nextWriteTimer` set and the bytes in `chunk`, and
 *   write() only schedules a flush while `nextWriteTimer` is null. The slot never sends again:
 *   each reconnect buffers its startup message behind the dead statement and waits out
 *   connect_timeout, and every statement sent to that slot meanwhile runs out of time.
 * - Statements handed over after a socket error but before its 'close' (closed() rejects what
 *   is in flight only when the close had no error). They stay in `sent`, and the next
 *   connection waits for their replies forever: that slot hangs for good.
 * - The last server error (`errorResponse`): the next connection's first statement fails
 *   with the old connection's error (57P01 for pg_terminate_backend) without having run; and
 *   the row counter of a statement cut off mid-result (`rows`), which would place the next
 *   statement's rows after that many empty slots.
 * Any server-side close can do this (pg_terminate_backend, a restart or failover, a pooler or
 * firewall dropping the connection) when a statement meets it in the same event-loop turn;
 * test/faults/buffered-write-on-close.test.ts makes that happen on purpose.
 *
 * The fix: closed() rejects everything in flight whatever the close, and both teardowns forget
 * the buffered write and the protocol state. It is applied to the text of
 * cjs/src/connection.js (each replaced snippet must be found exactly once, or loading fails
 * with this file's name, so an upgrade cannot drop the fix silently), compiled into require's
 * cache before the package is required. Delete this file once a release fixes the teardown
 * (the test above shows whether one does). The ESM build that some tests and scripts import
 * for short-lived admin connections is left alone.
 */
import { readFileSync } from 'node:fs'
import { Module, createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { compileFunction } from 'node:vm'
import type PostgresModule from 'postgres'

const require = createRequire(import.meta.url)

installFixedConnection(join(dirname(require.resolve('postgres')), 'connection.js'))

/** postgres.js's default export, `postgres(url, options)`, with the fix in place. */
const postgres = require('postgres') as typeof PostgresModule
export default postgres

// Private:

function installFixedConnection (file: string): void {
  if (require.cache[file] !== undefined) {
    throw new Error(`${file} was loaded before src/db/postgres-driver.ts could fix it: import postgres.js through that file`)
  }
  let source = readFileSync(file, 'utf8')
  for (const [where, before, after] of teardownFixes()) {
    const found = source.split(before).length - 1
    if (found !== 1) {
      throw new Error(`postgres.js changed: the snippet of ${where} that src/db/postgres-driver.ts fixes is in ${file} ${found} times, not once; ` +
        'check whether this release fixes the teardown, then update or delete that file')
    }
    source = source.replace(before, after)
  }
  const fixed = new Module(file)
  fixed.filename = file
  const body = compileFunction(source, ['exports', 'require', 'module', '__filename', '__dirname'], { filename: file })
  body.call(fixed.exports, fixed.exports, createRequire(file), fixed, file, dirname(file))
  fixed.loaded = true
  require.cache[file] = fixed
}

/** [where, snippet in 3.4.9, fixed snippet]: a function, not constants, as it runs at import. */
function teardownFixes (): Array<[string, string, string]> {
  return [
    ['terminate()',
      '    clearImmediate(nextWriteTimer)\n    if (socket) {\n',
      '    clearImmediate(nextWriteTimer)\n    chunk = nextWriteTimer = null\n    if (socket) {\n'],
    ['closed(), the cancelled flush',
      '    clearImmediate(nextWriteTimer)\n    socket.removeListener(\'data\', data)\n',
      '    clearImmediate(nextWriteTimer)\n    chunk = nextWriteTimer = null\n    errorResponse = null\n    socket.removeListener(\'data\', data)\n'],
    ['closed(), the statements in flight',
      '    !hadError && (query || sent.length) && error(Errors.connection(\'CONNECTION_CLOSED\', options, socket))\n',
      '    if (query || sent.length) error(Errors.connection(\'CONNECTION_CLOSED\', options, socket))\n' +
      '    query = results = null\n    result = new Result()\n    rows = 0\n']
  ]
}
