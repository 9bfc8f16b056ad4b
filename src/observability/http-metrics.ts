/**
 * HTTP metrics: jotter_http_request_duration_seconds{route,method,status_class} and
 * jotter_http_requests_in_flight. `route` is the route pattern ("/graphql"), never the raw URL,
 * so a scanner requesting random paths adds no series: requests no route matched are "unmatched".
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Gauge, Histogram, type Registry } from 'prom-client'

/** Buckets in seconds; 0.2 is the latency SLO, so the P99 alert reads an exact bucket edge. */
export const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2.5, 5, 10, 30]

export function registerHttpMetrics (app: FastifyInstance, registry: Registry): void {
  const duration = new Histogram({
    name: 'jotter_http_request_duration_seconds',
    help: 'HTTP request duration from arrival to the last byte written, by route pattern, method and status class.',
    labelNames: ['route', 'method', 'status_class'] as const,
    buckets: HTTP_DURATION_BUCKETS,
    registers: [registry]
  })
  const inFlight = new Gauge({
    name: 'jotter_http_requests_in_flight',
    help: 'HTTP requests received and not yet answered (or abandoned by the client).',
    registers: [registry]
  })

  const decrementInFlight = (): void => { inFlight.dec() }
  // Callback-style hooks: no promise or microtask per request.
  app.addHook('onRequest', (_request, reply, done) => {
    inFlight.inc()
    // 'close' fires once per response whether it finished or the client went away; onResponse
    // does not run for an abandoned request, so the gauge would drift upwards.
    reply.raw.once('close', decrementInFlight)
    done()
  })
  app.addHook('onResponse', (request, reply, done) => {
    duration.observe({
      route: routeLabel(request),
      method: request.method,
      status_class: statusClass(reply.statusCode)
    }, reply.elapsedTime / 1000)
    done()
  })
}

const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx']

function statusClass (statusCode: number): string {
  return STATUS_CLASSES[Math.floor(statusCode / 100) - 1] ?? `${Math.floor(statusCode / 100)}xx`
}

/** The matched route pattern, or "unmatched" (the not-found handler has no pattern). */
export function routeLabel (request: FastifyRequest): string {
  return request.is404 ? 'unmatched' : request.routeOptions.url ?? 'unmatched'
}
