import type { FastifyInstance } from 'fastify'
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import Type from 'typebox'
import type { KeySetEvent, RemoteKeySet } from '@todo-auth/token-verifier'

const buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

/**
 * todo-api's Prometheus metrics on prom-client (its own registry per app, never the global
 * one): requests and their durations by method, route pattern (never the raw URL, so
 * cardinality stays bounded) and status, and token-service's JWKS as the key set reports it.
 */
export function createHttpMetrics() {
  const registry = new Registry()
  const requests = new Counter({ name: 'http_requests_total', help: 'HTTP requests answered.', labelNames: ['method', 'route', 'status'], registers: [registry] })
  const durations = new Histogram({ name: 'http_request_duration_seconds', help: 'Time to answer an HTTP request.', labelNames: ['method', 'route'], buckets, registers: [registry] })
  const jwksFetches = new Counter({ name: 'todo_api_jwks_fetches_total', help: "Fetches of token-service's JWKS by outcome (ok, not_modified, error).", labelNames: ['outcome'], registers: [registry] })
  const jwksHits = new Counter({ name: 'todo_api_jwks_cache_hits_total', help: 'Verification keys served from the cached key set without a fetch.', registers: [registry] })

  return {
    registry,
    observe(method: string, route: string, status: number, seconds: number): void {
      requests.inc({ method, route, status: String(status) })
      durations.observe({ method, route }, seconds)
    },
    /** The key set's onEvent (createTokenKeySet). */
    onKeySetEvent(event: KeySetEvent): void {
      if (event.type === 'fetch') jwksFetches.inc({ outcome: event.outcome })
      else jwksHits.inc()
    },
    /** Gauges of the key set's state, read at scrape time. */
    watchKeySet(status: () => RemoteKeySet['status'] | undefined): void {
      new Gauge({
        name: 'todo_api_jwks_loaded',
        help: '1 when verification keys are cached and usable.',
        registers: [registry],
        collect() {
          this.set(status()?.loaded ? 1 : 0)
        },
      })
      new Gauge({
        name: 'todo_api_jwks_keys',
        help: 'Verification keys cached.',
        registers: [registry],
        collect() {
          this.set(status()?.keyCount ?? 0)
        },
      })
    },
  }
}
export type HttpMetrics = ReturnType<typeof createHttpMetrics>

/** Observes every answered request, and serves GET /metrics. */
export function registerMetrics(app: FastifyInstance, metrics: HttpMetrics): void {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched'
    metrics.observe(request.method, route, reply.statusCode, reply.elapsedTime / 1000)
  })
  app.get(
    '/metrics',
    { schema: { summary: 'Prometheus metrics (text format 0.0.4)', tags: ['operations'], response: { 200: { description: 'Prometheus text format 0.0.4', content: { 'text/plain': { schema: Type.String() } } } } } },
    async (_request, reply) => {
      return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics())
    },
  )
}
