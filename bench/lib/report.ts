import { evaluateTargets, formatFigure, type TargetResult, type TargetRow } from './targets.ts'

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
  /** The target's label and whether the figure meets it (bench/lib/targets.ts `check`). */
  target?: string
  met?: boolean
  /** Which target of bench/lib/targets.ts this row is judged on. */
  targetId?: string
  note?: string
  /** false: a row of the table only (its ratio is not what it is about, e.g. a memory target). */
  chart?: boolean
}

const header = ['scenario', 'req/s', 'ratio', 'vs', 'p50 ms', 'p99 ms', 'CPU µs/req', 'peak RSS MB', 'target', 'result']

/** A row's cells in the order of `header`; `miss` renders a missed target (bold in the docs). */
function cells(r: Row, miss = 'MISS'): string[] {
  return [
    r.name,
    Math.round(r.rps).toString(),
    `${r.ratio.toFixed(2)}×`,
    r.baseline,
    r.p50?.toFixed(1) ?? '',
    r.p99?.toFixed(1) ?? '',
    r.cpuUsPerReq != null ? r.cpuUsPerReq.toFixed(1) : '',
    r.rssMb != null ? r.rssMb.toFixed(1) : '',
    r.target ?? '',
    r.met === undefined ? '' : r.met ? 'PASS' : miss,
  ]
}

/**
 * The rows with the target and verdict of bench/lib/targets.ts wherever a target judges the row
 * (so an older results file is shown against today's targets); other rows keep their own.
 */
function withTargets(rows: readonly Row[]): Row[] {
  const judged = new Map(evaluateTargets(rows).map((result) => [result.row, result]))
  return rows.map((r) => {
    const result = judged.get(r)
    return result === undefined ? r : { ...r, target: result.target.label, met: result.met }
  })
}

/** The results as an aligned text table (the bench's output). */
export function table(rows: Row[]): string {
  const lines = withTargets(rows).map((r) => cells(r))
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)))
  const fmt = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`
  return [fmt(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(fmt)].join('\n')
}

/** The results as a Markdown table (docs/performance.md "## Results", scripts/perf-docs.ts). */
export function markdownTable(rows: readonly Row[]): string {
  const align = header.map((_, i) => (i === 0 || i === 3 || i >= 8 ? '---' : '---:'))
  return [header, align, ...withTargets(rows).map((r) => cells(r, '**MISS**'))].map((l) => `| ${l.join(' | ')} |`).join('\n')
}

/**
 * A target's figure beside its ratio: req/s figures to the row's baseline, p99 and RSS to the
 * first hello-world baseline's (how much more than a server that does nothing).
 */
function judged(result: TargetResult, rows: readonly TargetRow[]): { figure: string; ratio: string } {
  const { row, target, value } = result
  if (row === undefined) return { figure: 'not measured', ratio: '' }
  if (target.figure === 'ratio' || target.figure === 'rps') {
    const figure = target.figure === 'ratio' ? `${Math.round(row.rps)} req/s` : formatFigure('rps', value)
    return { figure, ratio: `${row.ratio.toFixed(2)}× ${row.baseline}` }
  }
  const base = rows[0]?.[target.figure]
  const ratio = typeof base === 'number' && base > 0 && value !== undefined ? `${(value / base).toFixed(2)}× hello-world's` : ''
  return { figure: formatFigure(target.figure, value), ratio }
}

/** Every target with its figure and PASS/MISS, as the bench prints it after the table. */
export function targetSummary(rows: readonly Row[]): string {
  const lines = evaluateTargets(rows).map((result) => {
    const { figure, ratio } = judged(result, rows)
    const verdict = result.row === undefined ? '----' : result.met ? 'PASS' : 'MISS'
    return `${verdict}  ${result.target.description}: ${figure}${ratio ? ` (${ratio})` : ''}`
  })
  return ['targets:', ...lines].join('\n')
}

/** The targets as a Markdown table (docs/performance.md "### Targets"): target, figure, ratio, PASS/MISS. */
export function markdownTargets(rows: readonly Row[]): string {
  const lines = evaluateTargets(rows).map((result) => {
    const { figure, ratio } = judged(result, rows)
    const verdict = result.row === undefined ? 'not measured' : result.met ? 'PASS' : '**MISS**'
    return `| ${result.target.description} | ${figure} | ${ratio} | ${verdict} |`
  })
  return ['| target | figure | ratio | result |', '|---|---:|---|---|', ...lines].join('\n')
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
