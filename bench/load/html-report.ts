/**
 * A run (or a find-max search) as one self-contained HTML file: inline CSS and SVG, no script,
 * no CDN, so it opens from a CI artefact or an air-gapped laptop alike.
 */
import type { FindMaxResult, LoadResult, SloVerdict } from './result-types.ts'
import { describePinning } from './cpu-pinning.ts'
import { describeAllocation, describeGcPauses } from './server-figures.ts'
import { formatPercent } from './slo.ts'
import { escapeXml, renderLineChart } from './svg-chart.ts'

export function renderHtmlReport (result: LoadResult, verdict?: SloVerdict): string {
  const { settings } = result
  const title = `Jotter load test: ${settings.rate} rps × ${settings.durationSeconds} s`
  return page(title, `<h1>${escapeXml(title)} ${verdict === undefined ? '' : badge(verdict.passed)}</h1>
<p class="muted">Started ${escapeXml(result.startedAt)} against ${escapeXml(settings.url)}. Open model: latency counts from each request's scheduled start.</p>
${verdict === undefined ? '' : verdictList(verdict)}
${runSections(result)}`)
}

export function renderFindMaxHtmlReport (search: FindMaxResult): string {
  const title = 'Jotter load test: highest rate within the SLO'
  const found = search.maxPassingRate === null ? 'no stage met the SLO' : `${search.maxPassingRate} rps`
  const stageRows = search.stages.map((stage) => `<tr><td>${stage.rate}</td><td>${stage.result.achievedRps.completed}</td>` +
    `<td>${stage.result.latencyMs.p50}</td><td>${stage.result.latencyMs.p99}</td><td>${formatPercent(stage.result.successRate)}</td>` +
    `<td>${badge(stage.verdict.passed)}</td></tr>`).join('\n')
  const p99ByRate = renderLineChart({
    title: 'p99 by stage rate',
    xLabel: 'target rate (rps)',
    yLabel: 'latency (ms)',
    yScale: 'log',
    series: [
      { name: 'p99', color: COLORS.p99, points: search.stages.map((stage) => [stage.rate, stage.result.latencyMs.p99]) },
      { name: 'p50', color: COLORS.p50, points: search.stages.map((stage) => [stage.rate, stage.result.latencyMs.p50]) },
      { name: `SLO ${search.thresholds.p99Ms} ms`, color: COLORS.limit, points: search.stages.map((stage) => [stage.rate, search.thresholds.p99Ms]) }
    ]
  })
  const stageDetails = search.stages.map((stage) => `<details><summary>Stage ${stage.rate} rps ${badge(stage.verdict.passed)}</summary>
${verdictList(stage.verdict)}${runSections(stage.result)}</details>`).join('\n')
  return page(title, `<h1>${escapeXml(title)}: ${escapeXml(found)}</h1>
<p class="muted">Started ${escapeXml(search.startedAt)}. SLO: p99 &lt; ${search.thresholds.p99Ms} ms, success ≥ ${formatPercent(search.thresholds.successRate)}.
Stopped because ${search.stoppedBecause === 'stage-failed' ? 'a stage failed the SLO' : 'the --max-rate cap was reached'}.</p>
<table><thead><tr><th>target rps</th><th>completed rps</th><th>p50 ms</th><th>p99 ms</th><th>success</th><th>SLO</th></tr></thead>
<tbody>${stageRows}</tbody></table>
${p99ByRate}
${stageDetails}`)
}

// Private:

const COLORS = { p50: '#2b7bba', p99: '#d9480f', max: '#999999', limit: '#2f9e44', sent: '#5f3dc4', completed: '#2b7bba', errors: '#c92a2a', rss: '#0b7285', cpu: '#e67700', gc: '#5c940d', gcLongest: '#862e9c' }

function runSections (result: LoadResult): string {
  const latency = result.latencyMs
  const server = result.server
  const rows: Array<[string, string]> = [
    ['p50 / p90 / p99 / p99.9 / max', `${latency.p50} / ${latency.p90} / ${latency.p99} / ${latency.p999} / ${latency.max} ms`],
    ['mean', `${latency.mean} ms`],
    ['success', `${formatPercent(result.successRate)} (${result.requests.succeeded} of ${result.requests.sent}; ${result.requests.timedOut} timed out)`],
    ['achieved rate', `${result.achievedRps.sent} sent/s, ${result.achievedRps.completed} completed/s, ${result.achievedRps.succeeded} succeeded/s (target ${result.settings.rate})`],
    ['cache hit rate', server.cacheHitRate === null ? 'n/a' : `${formatPercent(server.cacheHitRate)} (${server.cacheHits} hits, ${server.cacheMisses} misses)`],
    ['SQL statements', server.sqlStatements === null ? 'n/a' : `${server.sqlStatements} (${server.sqlStatementsPerRequest} per request)`],
    ['server RSS peak / mean CPU', `${server.peakRssBytes === null ? 'n/a' : `${(server.peakRssBytes / MiB).toFixed(1)} MiB`} / ${server.meanCpuPercent === null ? 'n/a' : `${server.meanCpuPercent} %`}`],
    ['server heap allocation', describeAllocation(server)],
    ['server GC pauses', describeGcPauses(server)],
    ['generator send lag p99 / max', `${result.generator.sendLagP99Ms} / ${result.generator.sendLagMaxMs} ms${result.generator.keptUp ? '' : ' (the generator fell behind: latencies include its own delay)'}`],
    ['settings', `warmup ${result.settings.warmupSeconds} s, timeout ${result.settings.timeoutMs} ms, ${result.settings.connections} connections × pipelining ${result.settings.pipelining}, ${result.settings.users} users, write share ${result.settings.writeShare}, id skew ${result.settings.idSkew ?? 0}`],
    ['mix', result.mix.map((entry) => `${entry.name} ${entry.weight} %`).join(', ')],
    ['CPU pinning', result.pinning === undefined ? 'not recorded' : describePinning(result.pinning)],
    ['idle in transaction after the run', result.idleInTransaction?.description ?? 'not checked']
  ]
  const seconds = result.perSecond
  const charts = [
    renderLineChart({
      title: 'Latency over time (by scheduled second)',
      xLabel: 'second of the measured window',
      yLabel: 'latency (ms)',
      yScale: 'log',
      series: [
        { name: 'p50', color: COLORS.p50, points: seconds.filter((s) => s.sent > 0).map((s) => [s.second, s.p50Ms]) },
        { name: 'p99', color: COLORS.p99, points: seconds.filter((s) => s.sent > 0).map((s) => [s.second, s.p99Ms]) },
        { name: 'max', color: COLORS.max, points: seconds.filter((s) => s.sent > 0).map((s) => [s.second, s.maxMs]) }
      ]
    }),
    renderLineChart({
      title: 'Per-second p99 and the server\'s GC pauses',
      xLabel: 'second of the measured window',
      yLabel: 'ms',
      yScale: 'log',
      series: [
        { name: 'p99 latency', color: COLORS.p99, points: seconds.filter((s) => s.sent > 0).map((s) => [s.second, s.p99Ms]) },
        { name: 'GC ms that second', color: COLORS.gc, points: server.samples.map((s) => [s.second, s.gcPauseMs ?? null]) },
        { name: 'longest GC ≤', color: COLORS.gcLongest, points: server.samples.map((s) => [s.second, s.gcLongestPauseMsAtMost ?? null]) }
      ]
    }),
    percentileChart(result),
    renderLineChart({
      title: 'Throughput over time',
      xLabel: 'second of the measured window',
      yLabel: 'requests per second',
      series: [
        { name: 'sent', color: COLORS.sent, points: seconds.filter((s) => s.second < result.settings.durationSeconds).map((s) => [s.second, s.sent]) },
        { name: 'completed', color: COLORS.completed, points: seconds.map((s) => [s.second, s.completed]) },
        { name: 'errors', color: COLORS.errors, points: seconds.map((s) => [s.second, s.errors]) }
      ]
    }),
    renderLineChart({
      title: 'Server RSS',
      xLabel: 'second of the measured window',
      yLabel: 'MiB',
      series: [{ name: 'RSS', color: COLORS.rss, points: server.samples.map((s) => [s.second, s.rssBytes === null ? null : s.rssBytes / MiB]) }]
    }),
    renderLineChart({
      title: 'Server CPU (100 % = one core)',
      xLabel: 'second of the measured window',
      yLabel: 'CPU %',
      series: [{ name: 'CPU', color: COLORS.cpu, points: server.samples.map((s) => [s.second, s.cpuPercent]) }]
    })
  ]
  const errors = Object.entries(result.errorsByType)
  const errorTable = errors.length === 0
    ? '<p>No errors.</p>'
    : `<table><thead><tr><th>error type</th><th>count</th></tr></thead><tbody>${errors.map(([type, count]) => `<tr><td>${escapeXml(type)}</td><td>${count}</td></tr>`).join('')}</tbody></table>`
  const operationTable = `<table><thead><tr><th>operation</th><th>requests</th><th>errors</th><th>p50 ms</th><th>p99 ms</th><th>max ms</th></tr></thead><tbody>${result.byOperation.map((operation) =>
    `<tr><td>${escapeXml(operation.name)}</td><td>${operation.count}</td><td>${operation.errors}</td><td>${operation.p50Ms}</td><td>${operation.p99Ms}</td><td>${operation.maxMs}</td></tr>`).join('')}</tbody></table>`

  return `<h2>Summary</h2>
<table><tbody>${rows.map(([name, value]) => `<tr><th>${escapeXml(name)}</th><td>${escapeXml(value)}</td></tr>`).join('')}</tbody></table>
<h2>Charts</h2>
<div class="charts">${charts.join('\n')}</div>
<h2>Errors by type</h2>
${errorTable}
<h2>By operation</h2>
${operationTable}`
}

/** The classic HdrHistogram plot: x = how rare (0 %, 90 %, 99 %, 99.9 % ...), so the tail gets room. */
function percentileChart (result: LoadResult): string {
  const total = result.requests.sent
  const rarity = (percentile: number): number => percentile >= 100 ? Math.log10(Math.max(total, 10)) : -Math.log10(1 - percentile / 100)
  const points = result.percentileDistribution.map((point): [number, number] => [rarity(point.percentile), point.latencyMs])
  const nines = ['0 %', '90 %', '99 %', '99.9 %', '99.99 %', '99.999 %', '99.9999 %']
  return renderLineChart({
    title: 'Latency by percentile',
    xLabel: 'percentile',
    yLabel: 'latency (ms)',
    yScale: 'log',
    xTicks: nines.map((label, value) => ({ value, label })),
    series: [{ name: 'latency', color: COLORS.p99, points }]
  })
}

function verdictList (verdict: SloVerdict): string {
  return `<ul class="verdict">${verdict.checks.map((check) => `<li>${badge(check.passed)} ${escapeXml(check.description)}</li>`).join('')}</ul>`
}

function badge (passed: boolean): string {
  return passed ? '<span class="pass">PASS</span>' : '<span class="fail">FAIL</span>'
}

function page (title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(title)}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1560px; padding: 0 16px; color: #222; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; }
table { border-collapse: collapse; margin: 8px 0; } th, td { border: 1px solid #ddd; padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #f6f6f6; font-weight: 600; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; } .charts svg { border: 1px solid #eee; background: #fff; max-width: 100%; height: auto; }
.muted { color: #666; } .pass { color: #fff; background: #2f9e44; padding: 1px 7px; border-radius: 3px; font-size: 13px; }
.fail { color: #fff; background: #c92a2a; padding: 1px 7px; border-radius: 3px; font-size: 13px; }
.verdict { list-style: none; padding: 0; } details { margin: 10px 0; } summary { cursor: pointer; font-weight: 600; }
</style></head>
<body>
${body}
</body></html>
`
}

const MiB = 1024 * 1024
