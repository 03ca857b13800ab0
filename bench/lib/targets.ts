// The targets of the performance issue, in one place: the bench's table and summary, and the
// generated tables of docs/performance.md (scripts/perf-docs.ts), judge every figure against these.

/** Which figure of a bench row a target judges: its ratio, req/s, p99 (ms) or peak RSS (MB). */
export type TargetFigure = 'ratio' | 'rps' | 'p99' | 'rssMb'

export interface Target {
  /** What the issue asks, as one line. */
  description: string
  /** The short form shown in the table's target column. */
  label: string
  figure: TargetFigure
  /** `min`: the figure must be at least `threshold`; `max`: strictly below it. */
  bound: 'min' | 'max'
  threshold: number
  /** The row the target is judged on, by name, for results written before rows carried a targetId. */
  row: string
}

const t = <const T extends Record<string, Target>>(targets: T) => targets

export const targets = t({
  'auth-one-token': {
    description: 'auth-only route, 1 token ≥ 0.90× hello-world',
    label: '≥ 0.90×',
    figure: 'ratio',
    bound: 'min',
    threshold: 0.9,
    row: 'token-verifier, 1 token',
  },
  'auth-10k-tokens': {
    description: 'auth-only route, 10 000 tokens ≥ 0.85× hello-world',
    label: '≥ 0.85×',
    figure: 'ratio',
    bound: 'min',
    threshold: 0.85,
    row: 'token-verifier, 10 000 tokens',
  },
  'cache-miss': {
    description: 'cache-miss path ≥ 0.90× the fastest correct verifier measured in the same run',
    label: '≥ 0.90× fastest',
    figure: 'ratio',
    bound: 'min',
    threshold: 0.9,
    row: 'token-verifier, every token new',
  },
  'vs-fastify-jwt': {
    description: 'token-verifier ≥ 1.5× @fastify/jwt with fast-jwt’s cache (1 token)',
    label: '≥ 1.5×',
    figure: 'ratio',
    bound: 'min',
    threshold: 1.5,
    row: 'token-verifier vs @fastify/jwt cached, 1 token',
  },
  'exchange-rps': {
    description: 'token-service exchange ≥ 5000 req/s',
    label: '≥ 5000/s',
    figure: 'rps',
    bound: 'min',
    threshold: 5000,
    row: 'token-service exchange',
  },
  'refresh-rps': {
    description: 'token-service refresh ≥ 12000 req/s',
    label: '≥ 12000/s',
    figure: 'rps',
    bound: 'min',
    threshold: 12000,
    row: 'token-service refresh',
  },
  'exchange-p99': {
    description: 'exchange p99 < 10 ms at half of peak',
    label: 'p99 < 10 ms',
    figure: 'p99',
    bound: 'max',
    threshold: 10,
    row: 'token-service exchange at half peak',
  },
  'refresh-p99': {
    description: 'refresh p99 < 10 ms at half of peak',
    label: 'p99 < 10 ms',
    figure: 'p99',
    bound: 'max',
    threshold: 10,
    row: 'token-service refresh at half peak',
  },
  'todo-api-rss': {
    description: 'todo-api peak RSS < 150 MB',
    label: 'RSS < 150 MB',
    figure: 'rssMb',
    bound: 'max',
    threshold: 150,
    row: 'todo-api GET /todos (PostgreSQL, 20 todos)',
  },
  'token-service-rss': {
    description: 'token-service peak RSS < 150 MB',
    label: 'RSS < 150 MB',
    figure: 'rssMb',
    bound: 'max',
    threshold: 150,
    row: 'token-service peak RSS (after all of the above)',
  },
})

export type TargetId = keyof typeof targets
export const targetIds = Object.keys(targets) as TargetId[]

/** Whether `value` meets the target; a missing or non-finite figure never does. */
export function meets(id: TargetId, value: number | null | undefined): boolean {
  const target: Target = targets[id]
  if (value == null || !Number.isFinite(value)) return false
  return target.bound === 'min' ? value >= target.threshold : value < target.threshold
}

/**
 * The fields a bench row carries for a target: spread it into the row
 * (`{ ...row, ...check('todo-api-rss', rssMb) }`), so the table, the summary and the docs find it.
 */
export function check(id: TargetId, value: number | null | undefined): { targetId: TargetId; target: string; met: boolean } {
  return { targetId: id, target: targets[id].label, met: meets(id, value) }
}

/** A figure as the reports print it: 1.23×, 4 800/s, 24.8 ms, 179.1 MB. */
export function formatFigure(figure: TargetFigure, value: number | null | undefined): string {
  if (value == null || !Number.isFinite(value)) return 'not measured'
  if (figure === 'ratio') return `${value.toFixed(2)}×`
  if (figure === 'rps') return `${Math.round(value)}/s`
  if (figure === 'p99') return `${value.toFixed(1)} ms`
  return `${value.toFixed(1)} MB`
}

/** The subset of a bench row that targets read (bench/lib/report.ts's Row has it). */
export interface TargetRow {
  name: string
  rps: number
  ratio: number
  baseline: string
  p99?: number
  rssMb?: number | null
  targetId?: string
}

export interface TargetResult {
  id: TargetId
  target: Target
  row: TargetRow | undefined
  value: number | undefined
  met: boolean
}

/** Every target judged on the rows of one run (by targetId, else by the row's name); `row` undefined: not measured. */
export function evaluateTargets(rows: readonly TargetRow[]): TargetResult[] {
  return targetIds.map((id) => {
    const target: Target = targets[id]
    const row = rows.find((r) => r.targetId === id) ?? rows.find((r) => r.name === target.row)
    const raw = row?.[target.figure]
    const value = typeof raw === 'number' ? raw : undefined
    return { id, target, row, value, met: row !== undefined && meets(id, value) }
  })
}
