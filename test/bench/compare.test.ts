/**
 * `npm run bench:compare`: the ratio and report math on fixed inputs (each edge from both
 * sides), the /proc parsing, the flags, and one short real run of every target and both mixes
 * on the test PostgreSQL, unpinned: every target must answer everything (100 % success), the
 * reference server's answers must be Jotter's byte for byte, and nothing it created may be left
 * (its databases; npm test checks TMPDIR). No assertion is about speed.
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { spawn } from 'node:child_process'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { parseCompareFlags } from '../../bench/compare.ts'
import { compareMixEntries, replayedMix } from '../../bench/compare/mixes.ts'
import { passFigures, type Counters } from '../../bench/compare/passes.ts'
import { parseStatTimes } from '../../bench/compare/process-cpu.ts'
import { formatRatio, formatReport, rateOverCapacity, ratio, type ComparisonReport, type TargetName, type TargetRun } from '../../bench/compare/report.ts'
import { runComparison } from '../../bench/compare/run-comparison.ts'
import { createRequestMix } from '../../bench/load/request-mix.ts'

const repoRoot = fileURLToPath(new URL('../../', import.meta.url))

describe('ratios', () => {
  test('a ratio needs a positive finite base and a finite result: 0 and below are n/a, a tiny base a figure until it overflows', () => {
    assert.equal(ratio(5, 2), 2.5)
    assert.equal(ratio(5, 0), null)
    assert.equal(ratio(5, -1), null)
    assert.equal(ratio(5, 1e-9), 5e9)
    assert.equal(ratio(5, Number.MIN_VALUE), null, '5 / MIN_VALUE is Infinity: no figure')
    assert.equal(ratio(0, 2), 0)
    assert.equal(ratio(null, 2), null)
    assert.equal(ratio(2, null), null)
    assert.equal(ratio(Number.NaN, 2), null)
    assert.equal(ratio(2, Number.POSITIVE_INFINITY), null)
  })

  test('two decimals below 10, one from 10 on; n/a for no ratio', () => {
    assert.equal(formatRatio(9.99), '9.99')
    assert.equal(formatRatio(10), '10.0')
    assert.equal(formatRatio(12.34), '12.3')
    assert.equal(formatRatio(0.004), '0.00')
    assert.equal(formatRatio(null), 'n/a')
  })

  test('the fixed rate is over capacity only when it is more than the closed loop answered', () => {
    assert.equal(rateOverCapacity(run('jotter', { rps: 400, rate: 400 })), false)
    assert.equal(rateOverCapacity(run('jotter', { rps: 399.9, rate: 400 })), true)
    assert.equal(rateOverCapacity(run('jotter', { rps: 400.1, rate: 400 })), false)
  })
})

describe('pass figures', () => {
  const counters = (serverCpuSeconds: number | null, postgresCpuSeconds: number | null, metrics: Record<string, number> | null): Counters =>
    ({ serverCpuSeconds, postgresCpuSeconds, metrics: metrics === null ? null : new Map(Object.entries(metrics)) })

  test('CPU and statements per request are deltas over the requests; the hit rate is over the lookups', () => {
    const figures = passFigures(2000, 1990, { timeout: 10 },
      counters(10, 4, { jotter_sql_statements_total: 100, jotter_cache_hits_total: 50, jotter_cache_misses_total: 50 }),
      counters(12, 5, { jotter_sql_statements_total: 3100, jotter_cache_hits_total: 1550, jotter_cache_misses_total: 550 }))
    assert.equal(figures.successRate, 0.995)
    assert.equal(figures.serverCpuMsPerRequest, 1)
    assert.equal(figures.postgresCpuMsPerRequest, 0.5)
    assert.equal(figures.sqlStatementsPerRequest, 1.5)
    assert.equal(figures.cacheHitRate, 0.75)
  })

  test('the write path\'s counters per mutation: entries and rows dropped over the mutations sent, the mean wait over the waits', () => {
    const start = counters(1, 1, { jotter_cache_invalidated_entries_total: 100, jotter_row_cache_invalidated_total: 10, jotter_cache_bus_own_commit_wait_seconds_sum: 1, jotter_cache_bus_own_commit_wait_seconds_count: 50 })
    const end = counters(2, 2, { jotter_cache_invalidated_entries_total: 700, jotter_row_cache_invalidated_total: 160, jotter_cache_bus_own_commit_wait_seconds_sum: 1.5, jotter_cache_bus_own_commit_wait_seconds_count: 250 })
    const figures = passFigures(2000, 2000, {}, start, end, 200)
    assert.equal(figures.entriesDroppedPerMutation, 3)
    assert.equal(figures.rowsDroppedPerMutation, 0.75)
    assert.equal(figures.ownCommitWaitMs, 2.5)
    const reads = passFigures(2000, 2000, {}, start, end)
    assert.deepEqual([reads.entriesDroppedPerMutation, reads.rowsDroppedPerMutation], [null, null], 'no mutations sent: nothing per mutation')
    const noWaits = passFigures(2000, 2000, {}, start, start, 200)
    assert.deepEqual([noWaits.entriesDroppedPerMutation, noWaits.ownCommitWaitMs], [0, null])
  })

  test('no requests, no readings or no lookups give n/a, not 0 or a division by zero', () => {
    const none = passFigures(0, 0, {}, counters(1, 1, {}), counters(1, 1, {}))
    assert.equal(none.successRate, 0)
    assert.equal(none.serverCpuMsPerRequest, null)
    const unread = passFigures(10, 10, {}, counters(null, null, null), counters(1, 1, null))
    assert.deepEqual([unread.serverCpuMsPerRequest, unread.postgresCpuMsPerRequest, unread.sqlStatementsPerRequest, unread.cacheHitRate], [null, null, null, null])
    const noLookups = passFigures(10, 10, {}, counters(1, 1, { jotter_cache_hits_total: 5, jotter_cache_misses_total: 5 }), counters(1, 1, { jotter_cache_hits_total: 5, jotter_cache_misses_total: 5 }))
    assert.equal(noLookups.cacheHitRate, null)
    const oneLookup = passFigures(10, 10, {}, counters(1, 1, { jotter_cache_hits_total: 5, jotter_cache_misses_total: 5 }), counters(1, 1, { jotter_cache_hits_total: 5, jotter_cache_misses_total: 6 }))
    assert.equal(oneLookup.cacheHitRate, 0)
  })

  test('/proc/<pid>/stat is read from after the last ")", whatever the command name holds', () => {
    const line = '4242 (node (a) b) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 12 3 20 0 11 0 5000 100000 2000'
    assert.deepEqual(parseStatTimes(line), { utime: 250, stime: 75, cutime: 12, cstime: 3 })
    assert.throws(() => parseStatTimes('no parentheses here'), /not a \/proc\/<pid>\/stat line/)
    assert.throws(() => parseStatTimes('1 (x) S 1 2 3 4 5 6 7 8 9 10 -2 0 0 0'), /field 14 is not a tick count: "-2"/)
  })
})

describe('the report', () => {
  test('every figure carries its ratio to the floor and to the reference; n/a where a base has no such figure', () => {
    const text = formatReport(report([
      run('floor', { rps: 20000, p99: 2, serverCpu: 0.05, postgresCpu: null }),
      run('reference', { rps: 1000, p99: 8, serverCpu: 1, postgresCpu: 0.5 }),
      run('jotter-off', { rps: 360, p99: 10, serverCpu: 1.5, postgresCpu: 0.4, sql: 3 }),
      run('jotter', { rps: 4000, p99: 4, serverCpu: 0.25, postgresCpu: 0.05, sql: 0.2, hitRate: 0.9 })
    ]))
    const lines = text.split('\n')
    assert.ok(lines.includes('| req/s, closed loop (64 connections) | 20000 (a ×1.00, b ×20.0) | 1000 (a ×0.05, b ×1.00) | 360 (a ×0.02, b ×0.36) | 4000 (a ×0.20, b ×4.00) |'), text)
    assert.ok(lines.includes('| p99 ms, at 400 req/s | 2.00 (a ×1.00, b ×0.25) | 8.00 (a ×4.00, b ×1.00) | 10.00 ‡ (a ×5.00, b ×1.25) | 4.00 (a ×2.00, b ×0.50) |'), text)
    assert.ok(lines.includes('| PostgreSQL CPU ms/request, closed loop | n/a | 0.500 (a ×n/a, b ×1.00) | 0.400 (a ×n/a, b ×0.80) | 0.050 (a ×n/a, b ×0.10) |'), text)
    assert.ok(lines.includes('| response-cache hit %, at 400 req/s | n/a | n/a | n/a | 90.0 (a ×n/a, b ×n/a) |'), text)
    assert.match(text, /d: Jotter held 1\.5 MiB in 1200 response-cache entries and 0\.5 MiB in the row cache/)
    assert.match(text, /58 of 60 answers byte-identical\. First difference \(noteDetail\)/)
  })

  test('a write mix adds the write path\'s counters, figures without ratios; the read mix has none', () => {
    const jotter = run('jotter', { rps: 3000 })
    jotter.mix = 'write'
    jotter.closed.entriesDroppedPerMutation = 4.5
    jotter.closed.rowsDroppedPerMutation = 1.25
    jotter.fixedRate.ownCommitWaitMs = 0.5
    const reference = { ...run('reference', { rps: 1000 }), mix: 'write' as const }
    const written = report([reference, jotter], ['reference', 'jotter'])
    written.settings.mixes = ['write']
    const lines = formatReport(written).split('\n')
    assert.ok(lines.includes('### Write mix (the reads at 90 %, createNote 5 % with overlapping tags, updateUser 5 %)'), lines.join('\n'))
    assert.ok(lines.includes('| response-cache entries dropped/mutation, closed loop | n/a | 4.50 |'), lines.join('\n'))
    assert.ok(lines.includes('| row-cache rows dropped/mutation, closed loop | n/a | 1.25 |'), lines.join('\n'))
    assert.ok(lines.includes('| wait for its own commit\'s notification, mean ms, at 400 req/s | n/a | 0.50 |'), lines.join('\n'))
    assert.doesNotMatch(formatReport(report([run('jotter', { rps: 3000 })], ['jotter'])), /dropped\/mutation/)
  })

  test('without the floor or the reference, only the ratio that has a base is printed', () => {
    const text = formatReport(report([run('reference', { rps: 1000 }), run('jotter', { rps: 3000 })], ['reference', 'jotter']))
    assert.ok(text.split('\n').includes('| req/s, closed loop (64 connections) | 1000 (b ×1.00) | 3000 (b ×3.00) |'), text)
  })
})

describe('flags and mixes', () => {
  test('the defaults run both mixes on every target, pinned; bad values are usage errors', () => {
    const flags = parseCompareFlags([])
    assert.deepEqual([flags.mixes, flags.targets, flags.pin], [['read', 'write'], ['floor', 'reference', 'jotter-off', 'jotter', 'jotter-hashes'], true])
    assert.deepEqual(parseCompareFlags(['--targets', 'jotter,floor', '--mix', 'write', '--rate', '300', '--no-pin']).targets, ['floor', 'jotter'])
    assert.throws(() => parseCompareFlags(['--mix', 'reads']), /--mix must be read, write, createNote, updateUser \(or a comma list of them\), both, mutations, all: "reads"/)
    assert.deepEqual(parseCompareFlags(['--mix', 'mutations']).mixes, ['createNote', 'updateUser'])
    assert.deepEqual(parseCompareFlags(['--mix', 'all']).mixes, ['read', 'write', 'createNote', 'updateUser'])
    assert.deepEqual(parseCompareFlags(['--mix', 'updateUser,read,updateUser']).mixes, ['updateUser', 'read'])
    assert.throws(() => parseCompareFlags(['--mix', 'read,']), /--mix must be/)
    assert.throws(() => parseCompareFlags(['--targets', 'floor,jotter-on']), /--targets must list some of .*: "floor,jotter-on"/)
    assert.throws(() => parseCompareFlags(['--rate', '0']), /--rate must be a positive number: "0"/)
    assert.equal(parseCompareFlags([]).cpuProfileDir, undefined)
    assert.equal(parseCompareFlags(['--cpu-prof', 'profiles']).cpuProfileDir, join(process.cwd(), 'profiles'))
    assert.deepEqual(parseCompareFlags(['--rate', '250']).rate, { perSecond: 250 })
    assert.deepEqual(parseCompareFlags(['--rate', '40%']).rate, { shareOfReference: 0.4 })
    assert.deepEqual(parseCompareFlags(['--rate', '100%']).rate, { shareOfReference: 1 })
    assert.throws(() => parseCompareFlags(['--rate', '101%']), /at most 100%: 101%/)
    assert.throws(() => parseCompareFlags(['--rate', '0%']), /--rate must be a positive number: "0"/)
    assert.throws(() => parseCompareFlags(['--targets', 'jotter']), /--rate 40% is a share of the reference's closed loop: --targets must include reference/)
    assert.deepEqual(parseCompareFlags(['--targets', 'jotter', '--rate', '400']).targets, ['jotter'])
  })

  test('the mutation mixes send one write each, every request of them a write', () => {
    for (const name of ['createNote', 'updateUser'] as const) {
      const mix = createRequestMix({ entries: compareMixEntries[name], fixtures: { users: [{ id: '1', token: 't' }], userIds: ['1'], noteIds: ['1'] } })
      assert.deepEqual([mix.weights, mix.writeShare], [[{ name, weight: 100 }], 1])
      for (let i = 0; i < 20; i++) assert.match(mix.next().body, new RegExp(`mutation ${name}`))
    }
  })

  test('the write mix is the reads at 90 % and createNote and updateUser at 5 % each', () => {
    const mix = createRequestMix({ entries: compareMixEntries.write, fixtures: { users: [{ id: '1', token: 't' }], userIds: ['1'], noteIds: ['1'] } })
    assert.deepEqual(mix.weights, [{ name: 'userList', weight: 27 }, { name: 'noteDetail', weight: 36 }, { name: 'userNotes', weight: 27 }, { name: 'createNote', weight: 5 }, { name: 'updateUser', weight: 5 }])
    assert.equal(mix.writeShare, 0.1)
  })

  test('the floor\'s replay of a mix sends the same writes but does not check their answers', () => {
    // One viewer (any first number), then a roll past the reads and createNote: updateUser.
    const updateUserFirst = (): (() => number) => {
      let roll = 0
      return () => [0.5, 0.97][roll++ % 2]
    }
    const mix = createRequestMix({ entries: compareMixEntries.write, fixtures: { users: [{ id: '1', token: 't' }], userIds: ['1'], noteIds: ['1'] }, random: updateUserFirst() })
    const write = mix.next()
    assert.notEqual(write.expect, undefined)
    assert.equal(mix.learn(write, '{"data":{}}'), 'mismatch updateUser')
    const replayed = replayedMix(createRequestMix({ entries: compareMixEntries.write, fixtures: { users: [{ id: '1', token: 't' }], userIds: ['1'], noteIds: ['1'] }, random: updateUserFirst() }))
    const replayedWrite = replayed.next()
    assert.equal(replayedWrite.expect, undefined)
    assert.match(replayedWrite.body, /mutation updateUser/)
    assert.equal(replayed.learn(replayedWrite, '{"data":{}}'), null)
  })

  test('the command exits 2 with the message on bad usage', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/compare.ts', '--mix', 'nope'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    for (const stream of [child.stdout, child.stderr]) stream.setEncoding('utf8').on('data', (chunk: string) => { output += chunk })
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
    assert.equal(code, 2, output)
    assert.match(output, /bench:compare: --mix must be read, write, .*: "nope"/)
  })
})

describe('a short real run', () => {
  const serverUrl = process.env.TEST_DATABASE_URL
  if (serverUrl === undefined) throw new Error('TEST_DATABASE_URL must be set (npm test sets it)')

  test('every target answers every request of both mixes, the reference answers as Jotter does, and nothing is left', async () => {
    const lines: string[] = []
    const childrenBefore = childProcesses()
    const result = await runComparison({
      durationSeconds: 2,
      warmupSeconds: 0.5,
      rate: { perSecond: 30 },
      connections: 4,
      users: 6,
      notesPerUser: 3,
      pin: false,
      mixes: ['read', 'write'],
      targets: ['floor', 'reference', 'jotter-off', 'jotter', 'jotter-hashes'],
      databaseUrl: serverUrl,
      answerSamples: 30,
      log: (line) => lines.push(line)
    })
    assert.equal(result.runs.length, 10)
    for (const { target, mix, closed, fixedRate } of result.runs) {
      for (const [pass, figures] of [['closed loop', closed], ['fixed rate', fixedRate]] as const) {
        assert.ok(figures.requests > 0, `${target} ${mix} ${pass}: no requests`)
        assert.equal(figures.successRate, 1, `${target} ${mix} ${pass}: ${JSON.stringify(figures.errorsByType)}`)
      }
    }
    assert.equal(result.answerCheck?.compared, 30)
    assert.equal(result.answerCheck?.equal, 30, JSON.stringify(result.answerCheck?.differences))
    // Jotter's own figures come from its /metrics: statements ran with caches off.
    const jotterOff = result.runs.find((entry) => entry.target === 'jotter-off' && entry.mix === 'read')!
    assert.ok(jotterOff.closed.sqlStatementsPerRequest! > 0, JSON.stringify(jotterOff.closed))
    assert.equal(result.runs.find((entry) => entry.target === 'reference')!.closed.sqlStatementsPerRequest, null)
    for (const run of result.runs) assert.equal(run.idleInTransactionAfter, run.target === 'floor' ? null : 0, `${run.target} ${run.mix}`)
    // Every request body counted (a hash's document resent after PERSISTED_QUERY_NOT_FOUND too).
    for (const run of result.runs) assert.ok(run.closed.requestBytesPerRequest > 20, `${run.target} ${run.mix}: ${run.closed.requestBytesPerRequest} bytes a request`)

    const client = new pg.Client({ connectionString: serverUrl })
    await client.connect()
    try {
      const { rows } = await client.query('select datname from pg_database where datname like $1', [`jotter_compare_${process.pid}_%`])
      assert.deepEqual(rows, [])
    } finally {
      await client.end()
    }
    // Every server it started (the floor, the reference, each Jotter) has exited and been reaped.
    assert.deepEqual(childProcesses(), childrenBefore)
  })
})

/** The pids of this process's children, from every thread's /proc children list. */
function childProcesses (): number[] {
  const pids: number[] = []
  for (const thread of readdirSync(`/proc/${process.pid}/task`)) {
    const text = readFileSync(`/proc/${process.pid}/task/${thread}/children`, 'utf8').trim()
    if (text !== '') pids.push(...text.split(/\s+/).map(Number))
  }
  return pids.sort((a, b) => a - b)
}

// Helpers:

function run (target: TargetName, figures: { rps?: number, rate?: number, p99?: number, serverCpu?: number | null, postgresCpu?: number | null, sql?: number, hitRate?: number }): TargetRun {
  const pass = {
    requests: 1000,
    successRate: 1,
    errorsByType: {},
    serverCpuMsPerRequest: figures.serverCpu ?? null,
    postgresCpuMsPerRequest: figures.postgresCpu ?? null,
    sqlStatementsPerRequest: figures.sql ?? null,
    cacheHitRate: figures.hitRate ?? null
  }
  return {
    target,
    mix: 'read',
    closed: { ...pass, connections: 64, seconds: 20, requestsPerSecond: figures.rps ?? 1000, requestBytesPerRequest: 120 },
    fixedRate: { ...pass, rate: figures.rate ?? 400, p50Ms: 1, p99Ms: figures.p99 ?? 5, generatorKeptUp: true },
    idleInTransactionAfter: target === 'floor' ? null : 0,
    cachesHeld: target === 'jotter' ? { responseCacheBytes: 1.5 * 1024 * 1024, responseCacheEntries: 1200, rowCacheBytes: 0.5 * 1024 * 1024 } : null
  }
}

function report (runs: TargetRun[], targets: TargetName[] = ['floor', 'reference', 'jotter-off', 'jotter']): ComparisonReport {
  return {
    kind: 'bench-compare',
    startedAt: '2025-01-01T00:00:00.000Z',
    finishedAt: '2025-01-01T00:09:00.000Z',
    settings: { durationSeconds: 20, warmupSeconds: 5, rate: '400 req/s', connections: 64, users: 200, notesPerUser: 20, mixes: ['read'], targets, pinning: 'pinned' },
    machine: { cpus: 2, loadAverageAtStart: [1, 1, 1], loadAverageAtEnd: [2, 2, 2] },
    seed: { users: 200, notes: 4000, seconds: 30 },
    answerCheck: { compared: 60, equal: 58, differences: [{ operation: 'noteDetail', request: '{}', jotter: '200 {"data":{"note":null}}', reference: '200 {"data":{"note":{}}}' }] },
    runs
  }
}
