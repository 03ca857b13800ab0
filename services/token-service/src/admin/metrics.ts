import { Counter, Gauge, Histogram, Registry } from 'prom-client'

/**
 * The service's Prometheus registry, on prom-client (the de-facto Node client:
 * exposition-format escaping, histograms and label checks done for us). One
 * registry per TokenService, never prom-client's global one, so several
 * instances in one process (tests, benchmarks) keep their own counts. Any part
 * of the service registers its metrics on TokenService.metrics; they are
 * served at the admin listener's GET /metrics.
 */
export type Labels = Readonly<Record<string, string>>

export interface Metrics {
  readonly registry: Registry
  /** A counter; registering the same name twice returns the same counter. Every label it is incremented with is named in `labelNames`. */
  counter<L extends string = never>(name: string, help: string, labelNames?: readonly L[]): Counter<L>
  /** A gauge read at scrape time. */
  gauge(name: string, help: string, collect: () => ReadonlyArray<{ labels?: Labels; value: number }>, labelNames?: readonly string[]): void
  /** A histogram (seconds), e.g. request durations. */
  histogram<L extends string>(name: string, help: string, labelNames: readonly L[], buckets: readonly number[]): Histogram<L>
  /** The exposition text and its content type. */
  render(): Promise<string>
  readonly contentType: string
}

export function createMetrics(): Metrics {
  const registry = new Registry()
  const existing = <T>(name: string) => registry.getSingleMetric(name) as T | undefined
  return {
    registry,
    counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []) {
      return existing<Counter<L>>(name) ?? new Counter<L>({ name, help, labelNames, registers: [registry] })
    },
    gauge(name, help, collect, labelNames = []) {
      new Gauge({
        name,
        help,
        labelNames,
        registers: [registry],
        collect() {
          this.reset()
          for (const { labels = {}, value } of collect()) this.set(labels, value)
        },
      })
    },
    histogram<L extends string>(name: string, help: string, labelNames: readonly L[], buckets: readonly number[]) {
      return existing<Histogram<L>>(name) ?? new Histogram<L>({ name, help, labelNames, buckets: [...buckets], registers: [registry] })
    },
    render: () => registry.metrics(),
    contentType: registry.contentType,
  }
}
