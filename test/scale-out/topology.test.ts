/**
 * The scale-out topology (`npm run scale-out`) on this machine, tested through HAProxy: two
 * instances behind round robin, PgBouncer in transaction pooling mode, a Redis of its own.
 * The API contract and the write mix hold through it, the pool's per-connection settings still
 * hold although PgBouncer ignores them, an instance drained mid-load costs no request, and
 * stopping leaves no process, port or session behind. Skipped, saying so, when pgbouncer,
 * haproxy or redis-server is missing.
 */
import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { createGraphqlClient, type GraphqlClient } from '../../bench/load/graphql-client.ts'
import { findIdleTransactions } from '../../bench/load/idle-transactions.ts'
import { runOpenModelLoad, type RequestMix } from '../../bench/load/index.ts'
import { createPool, ensureDatabase, dropDatabase } from '../../src/db/connect.ts'
import { findBinary, MissingBinaryError, requireBinary } from '../../scripts/scale-out/binaries.ts'
import { pgbouncerIni } from '../../scripts/scale-out/pgbouncer.ts'
import { serverSideSessionSettings } from '../../scripts/scale-out/pooling-settings.ts'
import { testServerUrl } from '../helpers/database.ts'
import { errorsBySecond, isRunning, scaleOutSkip, scaleOutTestEnv, seededWriteMix, startScaleOutFixture, type ScaleOutFixture } from './scale-out-fixture.ts'

const DB_TIMEOUT_MS = Number(scaleOutTestEnv.DB_TIMEOUT_MS)

describe('the parts of the topology, without running them', () => {
  test('a missing program is named with the Debian package that provides it; a present one is found', () => {
    const empty = mkdtempSync(join(tmpdir(), 'jotter-no-binaries-'))
    const withHaproxy = mkdtempSync(join(tmpdir(), 'jotter-binaries-'))
    try {
      assert.throws(() => requireBinary('haproxy', [empty]), (error: unknown) =>
        error instanceof MissingBinaryError && /Debian package haproxy/.test(error.message) && /apt-get install -y haproxy/.test(error.message))
      assert.throws(() => requireBinary('redis-server', [empty]), /Debian package redis-server/)
      writeFileSync(join(withHaproxy, 'haproxy'), '#!/bin/sh\n')
      chmodSync(join(withHaproxy, 'haproxy'), 0o755)
      assert.equal(findBinary('haproxy', [empty, withHaproxy]), join(withHaproxy, 'haproxy'))
    } finally {
      rmSync(empty, { recursive: true, force: true })
      rmSync(withHaproxy, { recursive: true, force: true })
    }
  })

  test('pgbouncer.ini: transaction pooling, and the pool\'s startup parameters ignored rather than refused', () => {
    const ini = pgbouncerIni({ listenPort: 6432, serverHost: '127.0.0.1', serverPort: 5432, database: 'jotter', user: 'jotter', password: 'secret', poolSize: 20, maxClientConnections: 100, dbTimeoutMs: 20_000, runDir: '/run/x' })
    assert.match(ini, /^pool_mode = transaction$/m)
    assert.match(ini, /^ignore_startup_parameters = statement_timeout,idle_in_transaction_session_timeout,options$/m)
    assert.match(ini, /^jotter = host=127\.0\.0\.1 port=5432 dbname=jotter$/m)
    assert.match(ini, /^auth_type = scram-sha-256$/m)
    assert.match(ini, /^query_timeout = 25$/m, 'PgBouncer\'s guard sits above statement_timeout')
    assert.match(pgbouncerIni({ listenPort: 6432, serverHost: 'h', serverPort: 5432, database: 'd', user: 'u', password: undefined, poolSize: 5, maxClientConnections: 100, dbTimeoutMs: 1000, runDir: '/r' }), /^auth_type = trust$/m)
  })

  test('the settings put on the database are exactly those createPool gives its own connections', async () => {
    const name = `jotter_settings_${process.pid}`
    const url = await ensureDatabase(testServerUrl(), name)
    const pool = createPool(url, { dbPoolMax: 1, dbTimeoutMs: DB_TIMEOUT_MS })
    try {
      for (const setting of serverSideSessionSettings(DB_TIMEOUT_MS)) {
        const { rows: [{ setting: value }] } = await pool.query('select setting from pg_settings where name = $1', [setting.name])
        assert.equal(Number(value), setting.value, setting.name)
      }
    } finally {
      await pool.end()
      await dropDatabase(testServerUrl(), name)
    }
  })
})

describe('the scale-out topology through HAProxy', { skip: scaleOutSkip }, () => {
  let fixture: ScaleOutFixture
  let client: GraphqlClient
  let mix: RequestMix

  before(async () => {
    fixture = await startScaleOutFixture({ instances: 2 })
    client = createGraphqlClient({ url: fixture.topology.graphqlUrl, connections: 4, timeoutMs: 10_000 })
  })
  after(async () => {
    await client?.close()
    await fixture?.stop()
  })

  test('every part has its own port and a running pid (PostgreSQL is the test server: not ours)', () => {
    const parts = fixture.topology.parts()
    assert.deepEqual(parts.map((part) => part.name), ['postgresql', 'pgbouncer', 'redis', 'instance-1', 'instance-2', 'haproxy'])
    assert.equal(new Set(parts.map((part) => part.port)).size, parts.length)
    assert.equal(parts[0].pid, null)
    for (const part of parts.slice(1)) assert.ok(isRunning(part.pid!), `${part.name} (pid ${part.pid}) runs`)
  })

  test('round robin: consecutive requests are answered by both instances', async () => {
    const pids = new Set<number>()
    for (let i = 0; i < 4; i++) {
      const response = await fetch(`${fixture.topology.origin}/health/live`)
      pids.add((await response.json() as { pid: number }).pid)
    }
    assert.deepEqual([...pids].sort(), fixture.topology.instances.map((instance) => instance.pid).sort())
  })

  test('the API contract: sign up, create, read, visibility, whichever instance answers', async () => {
    const signUp = async (name: string): Promise<string> => {
      const data = await client.data('signUp', 'mutation ($input: SignUpInput!) { signUp(input: $input) { token } }',
        { input: { name, email: `${name.toLowerCase()}-${process.pid}@scale-out.test`, password: 'correct horse battery' } }, null)
      return (data.signUp as { token: string }).token
    }
    const alice = await signUp('Alice')
    const bob = await signUp('Bob')
    const create = async (title: string, visibility: string): Promise<string> => {
      const data = await client.data('createNote', 'mutation ($input: CreateNoteInput!) { createNote(input: $input) { id } }', { input: { title, visibility, tags: ['scale'] } }, alice)
      return (data.createNote as { id: string }).id
    }
    const publicId = await create('public through haproxy', 'PUBLIC')
    const privateId = await create('private through haproxy', 'PRIVATE')
    const note = 'query ($id: ID!) { note(id: $id) { id title } }'
    // Twice each: round robin sends the second read to the other instance.
    for (let round = 0; round < 2; round++) {
      assert.deepEqual((await client.data('note', note, { id: privateId }, alice)).note, { id: privateId, title: 'private through haproxy' })
      assert.equal((await client.data('note', note, { id: privateId }, bob)).note, null, 'another user never sees a private note')
      assert.equal((await client.data('note', note, { id: privateId }, null)).note, null, 'nor does an anonymous client')
      const listed = (await client.data('notes', '{ notes(first: 50, tag: "scale") { id } }', {}, null)).notes as Array<{ id: string }>
      assert.deepEqual(listed.map((entry) => entry.id), [publicId])
    }
    // A write on one instance is seen by the next read, whichever instance serves it.
    await client.data('updateNote', 'mutation ($id: ID!) { updateNote(id: $id, input: { visibility: PRIVATE }) { id } }', { id: publicId }, alice)
    for (let round = 0; round < 2; round++) {
      const listed = (await client.data('notes', '{ notes(first: 50, tag: "scale") { id } }', {}, null)).notes as Array<{ id: string }>
      assert.deepEqual(listed, [], `read ${round + 1} after the update`)
    }
  })

  test('the pool\'s settings hold through PgBouncer, which ignores them at connect: set on the database', async () => {
    const pool = createPool(fixture.topology.pooledDatabaseUrl, { dbPoolMax: 1, dbTimeoutMs: DB_TIMEOUT_MS })
    try {
      for (const setting of serverSideSessionSettings(DB_TIMEOUT_MS)) {
        const { rows: [{ setting: value }] } = await pool.query('select setting from pg_settings where name = $1', [setting.name])
        assert.equal(Number(value), setting.value, setting.name)
      }
      await pool.query(`select pg_sleep(${DB_TIMEOUT_MS / 1000 / 4})`)
      await assert.rejects(pool.query(`select pg_sleep(${DB_TIMEOUT_MS / 1000 + 1})`), (error: { code?: string }) => error.code === '57014')
    } finally {
      await pool.end()
    }
  })

  test('the write mix for 4 s through HAProxy: no failures, nothing idle in transaction', async () => {
    mix = await seededWriteMix(fixture.topology.graphqlUrl)
    const before = await fixture.topology.haproxy.serverStats()
    const result = await runOpenModelLoad({ url: fixture.topology.graphqlUrl, rate: 40, durationSeconds: 4, mix, metricsUrl: null, connections: 16 })
    assert.equal(result.requests.failed, 0, `failures: ${JSON.stringify(result.errorsByType)}`)
    assert.deepEqual(mix.mismatches, [])
    const afterStats = await fixture.topology.haproxy.serverStats()
    for (const server of afterStats) {
      const served = server.total - before.find((entry) => entry.name === server.name)!.total
      assert.ok(served > result.requests.sent / 4, `${server.name} served ${served} of ${result.requests.sent}`)
    }
    assert.deepEqual(await findIdleTransactions({ adminUrl: fixture.topology.directDatabaseUrl, database: fixture.topology.database }), [])
  })

  test('graceful drain: instance-2 leaves mid-load and no request fails', async () => {
    const instance = fixture.topology.instances[1]
    const load = runOpenModelLoad({ url: fixture.topology.graphqlUrl, rate: 30, durationSeconds: 4, mix, metricsUrl: null, connections: 16 })
    await new Promise((resolve) => setTimeout(resolve, 1500))
    await fixture.topology.drainInstance(instance.name)
    const result = await load
    assert.equal(result.requests.failed, 0, `failures by second: ${JSON.stringify(errorsBySecond(result))}, ${JSON.stringify(result.errorsByType)}`)
    assert.deepEqual(await instance.process.exited, { code: 0, signal: null }, 'a drained instance closes gracefully')
    // Out of the rotation before it stopped: HAProxy never tried it once it was gone (a plain
    // SIGTERM would cost no request either, thanks to retries, but would show failed attempts).
    const stats = (await fixture.topology.haproxy.serverStats()).find((server) => server.name === instance.name)!
    assert.deepEqual({ current: stats.current, connectionErrors: stats.connectionErrors, retries: stats.retries, responseErrors: stats.responseErrors },
      { current: 0, connectionErrors: 0, retries: 0, responseErrors: 0 })
  })

  test('stop: every process gone, every port free, no session, lock or open transaction left', async () => {
    const leftovers = await fixture.stop()
    assert.deepEqual(leftovers, { processes: [], ports: [], sessions: [], idleInTransaction: 0, advisoryLocks: 0 })
    assert.equal(fixture.logLines.filter((line) => /exited:/.test(line)).length, 0, 'nothing exited before the stop but the drained instance')
  })
})
