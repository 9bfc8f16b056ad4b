/**
 * The scrape-time histogram exports exactly what prom-client's Histogram fed the same
 * observations would (text and JSON, labelled and unlabelled, values on and between the
 * bounds and above them all), and the cluster aggregator sums it like prom-client's.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { AggregatorRegistry, Histogram, Registry } from 'prom-client'
import { createScrapeTimeHistogram } from '../../src/observability/scrape-time-histogram.ts'

const buckets = [0.005, 0.01, 0.025, 0.1, 1]
const observations: Array<[string, string, number]> = [
  ['POST', '2xx', 0.001], ['POST', '2xx', 0.005], ['GET', '4xx', 0.0101], ['POST', '2xx', 2.5],
  ['POST', '5xx', 0], ['GET', '4xx', 1], ['POST', '2xx', 0.02], ['POST', '2xx', 0.3]
]

function pair () {
  const ours = new Registry()
  const theirs = new Registry()
  const labelNames = ['route', 'method', 'status_class'] as const
  const duration = createScrapeTimeHistogram({ name: 'duration_seconds', help: 'Duration.', labelNames, buckets, registers: [ours] })
  const perRequest = createScrapeTimeHistogram({ name: 'per_request', help: 'Per request.', labelNames: [], buckets: [0, 1, 2], registers: [ours] }).series({})
  const promDuration = new Histogram({ name: 'duration_seconds', help: 'Duration.', labelNames, buckets, registers: [theirs] })
  const promPerRequest = new Histogram({ name: 'per_request', help: 'Per request.', buckets: [0, 1, 2], registers: [theirs] })
  return {
    ours,
    theirs,
    observe (method: string, status: string, seconds: number, statements: number) {
      duration.series({ route: '/graphql', method, status_class: status }).observe(seconds)
      promDuration.observe({ route: '/graphql', method, status_class: status }, seconds)
      perRequest.observe(statements)
      promPerRequest.observe(statements)
    }
  }
}

test('the same text and JSON as prom-client\'s Histogram, before and after observations', async () => {
  const { ours, theirs, observe } = pair()
  assert.equal(await ours.metrics(), await theirs.metrics(), 'nothing observed: the unlabelled zeros only')
  observations.forEach(([method, status, seconds], index) => observe(method, status, seconds, index % 4))
  const text = await ours.metrics()
  assert.equal(text, await theirs.metrics())
  assert.match(text, /^duration_seconds_bucket\{le="0.005",route="\/graphql",method="POST",status_class="2xx"\} 2$/m)
  assert.match(text, /^duration_seconds_bucket\{le="\+Inf",route="\/graphql",method="POST",status_class="2xx"\} 5$/m)
  assert.deepEqual(await ours.getMetricsAsJSON(), await theirs.getMetricsAsJSON())
})

test('the cluster aggregator sums two workers\' histograms as it sums prom-client\'s', async () => {
  const [a, b] = [pair(), pair()]
  observations.forEach(([method, status, seconds], index) => (index % 2 === 0 ? a : b).observe(method, status, seconds, index))
  const ours = AggregatorRegistry.aggregate([await a.ours.getMetricsAsJSON(), await b.ours.getMetricsAsJSON()])
  const theirs = AggregatorRegistry.aggregate([await a.theirs.getMetricsAsJSON(), await b.theirs.getMetricsAsJSON()])
  assert.equal(await ours.metrics(), await theirs.metrics())
})

test('refuses what prom-client refuses: a value that is not a finite number, buckets out of order', () => {
  const series = createScrapeTimeHistogram({ name: 'h', help: 'h', labelNames: [], buckets: [1, 2], registers: [] }).series({})
  assert.throws(() => series.observe(Number.NaN), /Value is not a valid number: NaN/)
  assert.throws(() => createScrapeTimeHistogram({ name: 'h', help: 'h', labelNames: [], buckets: [2, 1], registers: [] }), /buckets must be ascending: 2, 1/)
})
