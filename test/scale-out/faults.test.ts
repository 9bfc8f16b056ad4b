/**
 * Parts of the scale-out topology failing under the write mix, through HAProxy:
 * - PgBouncer restarted (connections cut, a new process on the same port): the instances
 *   recover by themselves, without a restart, within a few seconds;
 * - one instance killed (SIGKILL): HAProxy routes around it; only requests that were in flight
 *   on it fail, never one on the other instance, never one that arrived after the kill.
 * Afterwards nothing is left behind. Skipped, saying so, when pgbouncer, haproxy or
 * redis-server is missing.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { findIdleTransactions } from '../../bench/load/idle-transactions.ts'
import { runOpenModelLoad, type LoadResult, type RequestMix } from '../../bench/load/index.ts'
import type { ServerStats } from '../../scripts/scale-out/haproxy.ts'
import { errorsBySecond, scaleOutSkip, seededWriteMix, startScaleOutFixture, type ScaleOutFixture } from './scale-out-fixture.ts'

const RATE = 40
/** The instances must be serving again this long after PgBouncer is back. */
const RECOVERY_SECONDS = 3
/** Long enough for two whole seconds after a restart that ends late and its recovery. */
const LOAD_SECONDS = 10

describe('faults in the scale-out topology, under load through HAProxy', { skip: scaleOutSkip }, () => {
  let fixture: ScaleOutFixture
  let mix: RequestMix

  before(async () => {
    fixture = await startScaleOutFixture({ instances: 2 })
    mix = await seededWriteMix(fixture.topology.graphqlUrl)
  })
  after(async () => {
    await fixture?.stop()
  })

  /** Runs the load, and `fault` `atMs` into it; returns the result and the second the fault ended in. */
  async function loadWithFault (durationSeconds: number, atMs: number, fault: () => Promise<void>): Promise<{ result: LoadResult, faultSecond: number, faultDoneSecond: number }> {
    const startedAt = performance.now()
    const load = runOpenModelLoad({ url: fixture.topology.graphqlUrl, rate: RATE, durationSeconds, mix, metricsUrl: null, connections: 16 })
    await new Promise((resolve) => setTimeout(resolve, atMs))
    const faultSecond = Math.floor((performance.now() - startedAt) / 1000)
    await fault()
    const faultDoneSecond = Math.floor((performance.now() - startedAt) / 1000)
    return { result: await load, faultSecond, faultDoneSecond }
  }

  test('PgBouncer restarted mid-load: the instances recover by themselves within seconds', async (t) => {
    const instancePids = fixture.topology.instances.map((instance) => instance.pid)
    const oldPid = fixture.topology.pgbouncer.pid()
    const { result, faultSecond, faultDoneSecond } = await loadWithFault(LOAD_SECONDS, 2000, () => fixture.topology.pgbouncer.restart())
    const failures = errorsBySecond(result)
    t.diagnostic(`restart in second ${faultSecond}-${faultDoneSecond}; ${result.requests.failed} of ${result.requests.sent} failed, by second ${JSON.stringify(failures)}: ${JSON.stringify(result.errorsByType)}`)
    assert.notEqual(fixture.topology.pgbouncer.pid(), oldPid, 'a new PgBouncer process')
    assert.deepEqual(fixture.topology.instances.map((instance) => instance.process.running()), [true, true], 'no instance was restarted')
    assert.deepEqual(fixture.topology.instances.map((instance) => instance.pid), instancePids)
    for (const second of Object.keys(failures).map(Number)) {
      assert.ok(second >= faultSecond - 1 && second <= faultDoneSecond + RECOVERY_SECONDS, `failures in second ${second}, outside the restart (${faultSecond}-${faultDoneSecond}) + ${RECOVERY_SECONDS} s`)
    }
    // Seconds of the load itself: a request sent in its last second may complete in the next.
    const lastSeconds = result.perSecond.filter((second) => second.second > faultDoneSecond + RECOVERY_SECONDS && second.second < LOAD_SECONDS)
    assert.ok(lastSeconds.length >= 2 && lastSeconds.every((second) => second.errors === 0 && second.sent > 0), 'the last seconds are served in full')
    assert.deepEqual(await findIdleTransactions({ adminUrl: fixture.topology.directDatabaseUrl, database: fixture.topology.database }), [])
  })

  test('one instance killed mid-load: only the requests in flight on it fail', async (t) => {
    const [survivor, victim] = fixture.topology.instances
    const statsOf = async (name: string): Promise<ServerStats> => (await fixture.topology.haproxy.serverStats()).find((server) => server.name === name)!
    const survivorBefore = await statsOf(survivor.name)
    let inFlightAtKill = -1
    const { result, faultSecond } = await loadWithFault(6, 2000, async () => {
      inFlightAtKill = (await statsOf(victim.name)).current
      victim.process.signal('SIGKILL')
      await victim.process.exited
    })
    const victimAfter = await statsOf(victim.name)
    const survivorAfter = await statsOf(survivor.name)
    const failures = errorsBySecond(result)
    t.diagnostic(`killed in second ${faultSecond} with ${inFlightAtKill} in flight on it (at most ${victimAfter.max} ever); ${result.requests.failed} of ${result.requests.sent} failed, ` +
      `by second ${JSON.stringify(failures)}: ${JSON.stringify(result.errorsByType)}; HAProxy: ${victimAfter.responseErrors} response errors on it, ${victimAfter.redispatches} redispatched`)
    assert.equal(victimAfter.status, 'DOWN', 'HAProxy took it out of the rotation')
    // No more failures than requests it ever held at once (without the retries, every request
    // sent to it until the health check noticed would fail: dozens), and each a cut connection
    // or HAProxy's 502 for a response that never came, not an answer from an instance.
    assert.ok(result.requests.failed <= victimAfter.max, `${result.requests.failed} failures > ${victimAfter.max}, the most requests it ever had in flight`)
    for (const type of Object.keys(result.errorsByType)) assert.match(type, /^(network |http 502)/, 'a request cut on the killed instance')
    assert.equal(survivorAfter.responseErrors - survivorBefore.responseErrors, 0, 'nothing failed on the survivor')
    for (const second of Object.keys(failures).map(Number)) assert.ok(second <= faultSecond + 1, `failures in second ${second}: after the kill in second ${faultSecond}`)
    assert.ok(survivor.process.running())
  })

  test('afterwards: every process gone, every port free, no session, lock or open transaction left', async () => {
    const leftovers = await fixture.stop()
    assert.deepEqual(leftovers, { processes: [], ports: [], sessions: [], idleInTransaction: 0, advisoryLocks: 0 })
  })
})
