/**
 * A small Prometheus text-format registry (exposition format 0.0.4), enough
 * for counters and gauges. Any part of the service may register its own
 * metrics on the instance buildApp creates (TokenService.metrics).
 */
export type Labels = Readonly<Record<string, string>>

export interface Counter {
  inc(labels?: Labels, by?: number): void
}

export interface Metrics {
  /** A monotonically increasing counter; registering the same name twice returns the same counter. */
  counter(name: string, help: string): Counter
  /** A gauge read at scrape time. */
  gauge(name: string, help: string, collect: () => ReadonlyArray<{ labels?: Labels; value: number }>): void
  /** The exposition text. */
  render(): string
}

const namePattern = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const labelNamePattern = /^[a-zA-Z_][a-zA-Z0-9_]*$/

export function createMetrics(): Metrics {
  const counters = new Map<string, { help: string; values: Map<string, number> }>()
  const gauges = new Map<string, { help: string; collect: () => ReadonlyArray<{ labels?: Labels; value: number }> }>()

  const checkName = (name: string) => {
    if (!namePattern.test(name)) throw new Error(`invalid metric name ${name}`)
    if (gauges.has(name)) throw new Error(`metric ${name} is already a gauge`)
  }

  return {
    counter(name, help) {
      checkName(name)
      let entry = counters.get(name)
      if (!entry) {
        entry = { help, values: new Map() }
        counters.set(name, entry)
      }
      const values = entry.values
      return {
        inc(labels = {}, by = 1) {
          const key = labelText(labels)
          values.set(key, (values.get(key) ?? 0) + by)
        },
      }
    },
    gauge(name, help, collect) {
      checkName(name)
      if (counters.has(name)) throw new Error(`metric ${name} is already a counter`)
      gauges.set(name, { help, collect })
    },
    render() {
      const lines: string[] = []
      for (const [name, { help, values }] of counters) {
        lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} counter`)
        if (values.size === 0) lines.push(`${name} 0`)
        for (const [labels, value] of values) lines.push(`${name}${labels} ${value}`)
      }
      for (const [name, { help, collect }] of gauges) {
        lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} gauge`)
        for (const { labels = {}, value } of collect()) lines.push(`${name}${labelText(labels)} ${value}`)
      }
      return `${lines.join('\n')}\n`
    },
  }
}

function labelText(labels: Labels): string {
  const entries = Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1))
  if (entries.length === 0) return ''
  for (const [name] of entries) if (!labelNamePattern.test(name)) throw new Error(`invalid label name ${name}`)
  return `{${entries.map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',')}}`
}

function escapeHelp(help: string): string {
  return help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
}
