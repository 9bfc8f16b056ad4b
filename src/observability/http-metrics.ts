/**
 * HTTP metrics: jotter_http_request_duration_seconds{route,method,status_class} and
 * jotter_http_requests_in_flight. `route` is the route pattern ("/graphql"), never the raw URL,
 * so a scanner requesting random paths adds no series: requests no route matched are "unmatched".
 */
import type { FastifyInstance, FastifyRequest, onResponseHookHandler } from 'fastify'
import { Gauge, type Registry } from 'prom-client'
import type { OpenResponses } from './open-responses.ts'
import { createScrapeTimeHistogram, type HistogramSeries, type ScrapeTimeHistogram } from './scrape-time-histogram.ts'

/** Buckets in seconds; 0.2 is the latency SLO, so the P99 alert reads an exact bucket edge. */
export const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2.5, 5, 10, 30]

export function registerHttpMetrics (app: FastifyInstance, registry: Registry, openResponses: OpenResponses): void {
  const duration = createScrapeTimeHistogram({
    name: 'jotter_http_request_duration_seconds',
    help: 'HTTP request duration from arrival to the last byte written, by route pattern, method and status class.',
    labelNames: ['route', 'method', 'status_class'] as const,
    buckets: HTTP_DURATION_BUCKETS,
    registers: [registry]
  })
  // Read at scrape time: the gauge's inc() and dec() allocate on every request. 'close' of the
  // raw response (open-responses.ts) ends a request whether it was answered or abandoned;
  // onResponse does not run for an abandoned one, so counting there would drift upwards.
  new Gauge({ // eslint-disable-line no-new -- registered in the registry, read by its collect
    name: 'jotter_http_requests_in_flight',
    help: 'HTTP requests received and not yet answered (or abandoned by the client).',
    registers: [registry],
    collect () { this.set(openResponses.count) }
  })

  // Each route observes with its own pattern, known when it is registered: reading
  // request.routeOptions per request builds a whole options object (118 bytes) to get it.
  app.addHook('onRoute', (route) => {
    const observe = createObserver(duration, route.url ?? 'unmatched')
    const hook: onResponseHookHandler = (request, reply, done) => {
      observe(request.method, reply.statusCode, reply.elapsedTime / 1000)
      done()
    }
    route.onResponse = route.onResponse === undefined ? [hook] : [...[route.onResponse].flat(), hook]
  })
  // The not-found handler is no registered route: its requests are observed here.
  const observeUnmatched = createObserver(duration, 'unmatched')
  app.addHook('onResponse', (request, reply, done) => {
    if (request.is404) observeUnmatched(request.method, reply.statusCode, reply.elapsedTime / 1000)
    done()
  })
}

type DurationHistogram = ScrapeTimeHistogram<'route' | 'method' | 'status_class'>

/**
 * Observes into one series per (method, status class), found on first use: no label literal
 * per request, and the label set of a route is small and fixed.
 */
function createObserver (duration: DurationHistogram, route: string): (method: string, statusCode: number, seconds: number) => void {
  const seriesByKey = new Map<string, Map<string, HistogramSeries>>()
  return (method, statusCode, seconds) => {
    const status = statusClass(statusCode)
    let byStatus = seriesByKey.get(method)
    if (byStatus === undefined) seriesByKey.set(method, byStatus = new Map())
    let series = byStatus.get(status)
    if (series === undefined) byStatus.set(status, series = duration.series({ route, method, status_class: status }))
    series.observe(seconds)
  }
}

const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx']

function statusClass (statusCode: number): string {
  return STATUS_CLASSES[Math.floor(statusCode / 100) - 1] ?? `${Math.floor(statusCode / 100)}xx`
}

/** The matched route pattern, or "unmatched" (the not-found handler has no pattern). */
export function routeLabel (request: FastifyRequest): string {
  return request.is404 ? 'unmatched' : request.routeOptions.url ?? 'unmatched'
}
