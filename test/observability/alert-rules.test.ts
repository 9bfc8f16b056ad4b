/**
 * The SLO alert rules (ops/prometheus/alerts.yml) pass their `promtool test rules` unit tests,
 * and every metric the rules and the Grafana dashboard read exists at GET /metrics.
 * promtool comes with Debian's `prometheus` package; without it those tests skip, saying so.
 */
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { after, before, test } from 'node:test'
import { startTestApp, type TestApp } from '../helpers/app.ts'
import { familyNames } from './prometheus-text.ts'

const PROMETHEUS_DIR = 'ops/prometheus'
const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0
const NO_PROMTOOL = 'promtool not found: install Debian\'s prometheus package (apt-get install prometheus) to run the alert-rule tests'

test('alert rules are valid and pass their promtool unit tests', { skip: promtool ? false : NO_PROMTOOL }, () => {
  const checked = execFileSync('promtool', ['check', 'rules', 'alerts.yml'], { cwd: PROMETHEUS_DIR, encoding: 'utf8' })
  assert.match(checked, /SUCCESS: 6 rules found/)
  const result = spawnSync('promtool', ['test', 'rules', 'alerts.test.yml'], { cwd: PROMETHEUS_DIR, encoding: 'utf8' })
  assert.equal(result.status, 0, `promtool test rules failed:\n${result.stdout}${result.stderr}`)
  assert.match(result.stdout, /SUCCESS/)
})

test('the example scrape config is valid', { skip: promtool ? false : NO_PROMTOOL }, () => {
  const result = spawnSync('promtool', ['check', 'config', 'prometheus.yml'], { cwd: PROMETHEUS_DIR, encoding: 'utf8' })
  assert.equal(result.status, 0, result.stdout + result.stderr)
})

test('every rule has a test that fires it', () => {
  const rules = [...readFileSync(`${PROMETHEUS_DIR}/alerts.yml`, 'utf8').matchAll(/- alert: (\S+)/g)].map((match) => match[1])
  const tests = readFileSync(`${PROMETHEUS_DIR}/alerts.test.yml`, 'utf8')
  assert.equal(rules.length, 6)
  for (const rule of rules) {
    assert.match(tests, new RegExp(`alertname: ${rule}\\n\\s+exp_alerts:\\n\\s+- exp_labels`), `${rule} has a firing case`)
    assert.match(tests, new RegExp(`alertname: ${rule}\\n\\s+exp_alerts: \\[\\]`), `${rule} has a quiet case`)
  }
})

let t: TestApp
before(async () => { t = await startTestApp() })
after(() => t.close())

test('every metric the alert rules and the dashboard use exists at /metrics', async () => {
  await t.gql('query Warm { notes(first: 1) { id } }')
  await t.app.inject({ url: '/nowhere' })
  const exported = familyNames((await t.app.inject({ url: '/metrics' })).body)
  const sources = {
    'ops/prometheus/alerts.yml': readFileSync(`${PROMETHEUS_DIR}/alerts.yml`, 'utf8'),
    'ops/grafana/jotter-dashboard.json': (JSON.parse(readFileSync('ops/grafana/jotter-dashboard.json', 'utf8')).panels as Array<{ targets: Array<{ expr: string }> }>)
      .flatMap((panel) => panel.targets.map((target) => target.expr)).join('\n')
  }
  const missing: string[] = []
  for (const [file, text] of Object.entries(sources)) {
    const used = new Set(text.match(/\b(?:jotter|nodejs|process)_[a-z0-9_]+\b/g) ?? [])
    assert.ok(used.size >= 5, `${file} names metrics`)
    for (const name of used) {
      const family = name.replace(/_(bucket|count|sum)$/, '')
      if (!exported.has(name) && !exported.has(family)) missing.push(`${name} (${file})`)
    }
  }
  assert.deepEqual(missing, [], `metrics used but not exported: ${missing.join(', ')}`)
})
