import type { FastifyInstance } from 'fastify'
import Type from 'typebox'

const buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] as const

interface Series {
  labels: string
  count: number
  sum: number
  /** Cumulative counts per bucket, as Prometheus wants them. */
  buckets: number[]
}

const escapeLabel = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')

/**
 * Request counts and durations in the Prometheus text format (v0.0.4), hand-written: two metric
 * families do not earn a dependency. Labels: method, route (the route pattern, never the raw URL,
 * so cardinality stays bounded) and status.
 */
export function createHttpMetrics() {
  const requests = new Map<string, Series>()
  const durations = new Map<string, Series>()

  function observe(method: string, route: string, status: number, seconds: number): void {
    const labels = `method="${escapeLabel(method)}",route="${escapeLabel(route)}"`
    const counterKey = `${labels},status="${status}"`
    const counter = requests.get(counterKey) ?? { labels: counterKey, count: 0, sum: 0, buckets: [] }
    counter.count += 1
    requests.set(counterKey, counter)
    const histogram = durations.get(labels) ?? { labels, count: 0, sum: 0, buckets: buckets.map(() => 0) }
    histogram.count += 1
    histogram.sum += seconds
    buckets.forEach((le, i) => {
      if (seconds <= le) histogram.buckets[i]! += 1
    })
    durations.set(labels, histogram)
  }

  function render(gauges: Array<{ name: string; help: string; value: number }> = []): string {
    const lines = ['# HELP http_requests_total HTTP requests answered.', '# TYPE http_requests_total counter']
    for (const series of requests.values()) lines.push(`http_requests_total{${series.labels}} ${series.count}`)
    lines.push('# HELP http_request_duration_seconds Time to answer an HTTP request.', '# TYPE http_request_duration_seconds histogram')
    for (const series of durations.values()) {
      buckets.forEach((le, i) => {
        lines.push(`http_request_duration_seconds_bucket{${series.labels},le="${le}"} ${series.buckets[i]}`)
      })
      lines.push(`http_request_duration_seconds_bucket{${series.labels},le="+Inf"} ${series.count}`)
      lines.push(`http_request_duration_seconds_sum{${series.labels}} ${series.sum}`)
      lines.push(`http_request_duration_seconds_count{${series.labels}} ${series.count}`)
    }
    for (const gauge of gauges) lines.push(`# HELP ${gauge.name} ${gauge.help}`, `# TYPE ${gauge.name} gauge`, `${gauge.name} ${gauge.value}`)
    return `${lines.join('\n')}\n`
  }

  return { observe, render }
}
export type HttpMetrics = ReturnType<typeof createHttpMetrics>

/** Observes every answered request, and serves GET /metrics. */
export function registerMetrics(app: FastifyInstance, metrics: HttpMetrics, gauges: () => Array<{ name: string; help: string; value: number }>): void {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched'
    metrics.observe(request.method, route, reply.statusCode, reply.elapsedTime / 1000)
  })
  app.get(
    '/metrics',
    { schema: { summary: 'Prometheus metrics (text format 0.0.4)', tags: ['operations'], response: { 200: { description: 'Prometheus text format 0.0.4', content: { 'text/plain': { schema: Type.String() } } } } } },
    async (_request, reply) => {
      return reply.type('text/plain; version=0.0.4; charset=utf-8').send(metrics.render(gauges()))
    },
  )
}
