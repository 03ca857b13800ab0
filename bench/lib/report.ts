export interface Row {
  name: string
  /** Requests (or operations) per second. */
  rps: number
  p50?: number
  p99?: number
  /** Peak RSS of the server process, MB. */
  rssMb?: number | null
  /** CPU time (all threads) the server process spent per request, µs. */
  cpuUsPerReq?: number | null
  /** The load generator that measured it. */
  engine?: string
  /** What this row is compared with (another row's name), and the figure. */
  baseline: string
  ratio: number
  target?: string
  met?: boolean
  note?: string
  /** false: a row of the table only (its ratio is not what it is about, e.g. a memory target). */
  chart?: boolean
}

export function table(rows: Row[]): string {
  const header = ['scenario', 'req/s', 'ratio', 'vs', 'p50 ms', 'p99 ms', 'CPU µs/req', 'peak RSS MB', 'target', 'met']
  const lines = rows.map((r) => [
    r.name,
    Math.round(r.rps).toString(),
    `${r.ratio.toFixed(2)}×`,
    r.baseline,
    r.p50?.toFixed(1) ?? '',
    r.p99?.toFixed(1) ?? '',
    r.cpuUsPerReq != null ? r.cpuUsPerReq.toFixed(1) : '',
    r.rssMb?.toString() ?? '',
    r.target ?? '',
    r.met === undefined ? '' : r.met ? 'yes' : 'NO',
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)))
  const fmt = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`
  return [fmt(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(fmt)].join('\n')
}

/** A horizontal bar chart of the ratios, as a standalone SVG. */
export function svgChart(allRows: Row[], title: string): string {
  const rows = allRows.filter((r) => r.chart !== false)
  const barHeight = 22
  const gap = 8
  const labelWidth = 400
  const chartWidth = 420
  const max = Math.max(1.2, ...rows.map((r) => r.ratio))
  const height = 40 + rows.length * (barHeight + gap) + 20
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;')
  const bars = rows
    .map((r, i) => {
      const y = 40 + i * (barHeight + gap)
      const w = Math.max(1, (r.ratio / max) * chartWidth)
      const colour = r.met === false ? '#d9534f' : '#4a7fc1'
      return [
        `<text x="${labelWidth - 8}" y="${y + 15}" text-anchor="end" font-size="12">${esc(r.name)}</text>`,
        `<rect x="${labelWidth}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" fill="${colour}"/>`,
        `<text x="${labelWidth + w + 6}" y="${y + 15}" font-size="12">${r.ratio.toFixed(2)}× ${esc(r.baseline)}</text>`,
      ].join('')
    })
    .join('\n')
  const oneX = labelWidth + (1 / max) * chartWidth
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${labelWidth + chartWidth + 230}" height="${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="22" font-size="15" font-weight="bold">${esc(title)}</text>
<line x1="${oneX}" y1="32" x2="${oneX}" y2="${height - 10}" stroke="#999" stroke-dasharray="4 3"/>
${bars}
</svg>
`
}
