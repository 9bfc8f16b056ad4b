/**
 * `npm test`: runs the node:test suite against a real PostgreSQL.
 *
 * With TEST_DATABASE_URL set (CI: the machine's PostgreSQL) the tests use that server;
 * otherwise one embedded PostgreSQL is started for the whole run in a temporary directory and
 * removed afterwards. Either way every test file creates its own database and drops it.
 * Arguments are test files (default: every test/**\/*.test.ts; Node 20's runner takes no globs).
 *
 * The tests (and every process they start) get a temporary directory of their own (TMPDIR):
 * whatever is still in it when they end was left behind, and fails the run; it is removed
 * either way. Two caches are not leftovers: tsx's transform cache (tsx-*) and, on Node 22 and
 * later, Node's module compile cache (node-compile-cache), which ESLint and tsc switch on.
 */
import { spawn } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { redactPassword } from '../tools/redact-password.ts'
import { startThrowawayPostgres } from '../tools/throwaway-postgres.ts'

const files = process.argv.slice(2)
const env = { ...process.env }
let cleanup = async (): Promise<void> => {}

process.stdout.write(`test: Node ${process.version}\n`)
if (!env.TEST_DATABASE_URL) {
  process.stdout.write('test: starting an embedded PostgreSQL (set TEST_DATABASE_URL to use another server)\n')
  const server = await startThrowawayPostgres({ dirPrefix: 'jotter-test-pg', log: (line) => process.stdout.write(`test: ${line}\n`) })
  env.TEST_DATABASE_URL = server.url
  cleanup = server.stop
} else {
  process.stdout.write(`test: using TEST_DATABASE_URL=${redactPassword(env.TEST_DATABASE_URL)}\n`)
}
if (!env.TEST_REDIS_URL) {
  process.stdout.write('test: TEST_REDIS_URL is not set: the Redis tests will be skipped (CI sets it)\n')
}

const testTmpDir = await mkdtemp(join(tmpdir(), 'jotter-test-tmp-'))
// Like /tmp itself: PostgreSQL and PgBouncer run as their own user when the tests run as root.
await chmod(testTmpDir, 0o1777)
env.TMPDIR = testTmpDir

const child = spawn(process.execPath, [
  '--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec',
  ...(files.length > 0 ? files : allTestFiles())
], { stdio: 'inherit', env })
let code = await new Promise<number>((resolve) => child.on('exit', (status, signal) => resolve(status ?? (signal ? 1 : 0))))
const leftBehind = (await readdir(testTmpDir)).filter((name) => !isCache(name))
if (leftBehind.length > 0) {
  process.stdout.write(`test: FAILED: left behind in the tests' temporary directory: ${leftBehind.sort().join(', ')}\n`)
  code ||= 1
}
await rm(testTmpDir, { recursive: true, force: true })
await cleanup()
process.exit(code)

// Private:

function isCache (name: string): boolean {
  return name.startsWith('tsx-') || name === 'node-compile-cache'
}

function allTestFiles (): string[] {
  return readdirSync('test', { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.test.ts'))
    .map((file) => join('test', file))
    .sort()
}
