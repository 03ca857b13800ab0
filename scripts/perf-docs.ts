// Rewrites the generated parts of docs/performance.md from bench/results/latest.json (the last full
// `pnpm bench` run, which calls this at its end): the one-line description of the run, the
// "## Results" table and the "### Targets" table (bench/lib/targets.ts), each between its markers,
// so the docs cannot drift from the results; test/repo/perf-docs.test.ts fails when they have.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { markdownTable, markdownTargets, type Row } from '../bench/lib/report.ts'

export const perfDocsFile = join(import.meta.dirname, '..', 'docs', 'performance.md')
export const latestResultsFile = join(import.meta.dirname, '..', 'bench', 'results', 'latest.json')

/** The parts of bench/results/latest.json the docs show (bench/run.ts writes it). */
export interface BenchResults {
  date: string
  startedAt?: string
  machine: { cpus: number; model?: string; node: string; loadAverageAtStart: number[]; loadAverageAtEnd: number[] }
  loadGenerator: string
  wrkThreads?: number | null
  serverNodeOptions?: string | null
  durationSec: number
  connections: number
  rows: Row[]
}

export function readResults(file = latestResultsFile): BenchResults {
  return JSON.parse(readFileSync(file, 'utf8')) as BenchResults
}

const utc = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`

/** One sentence: when the run was, on what, with which load. */
export function describeRun(results: BenchResults): string {
  const { machine } = results
  const when = results.startedAt ? `on ${results.startedAt.slice(0, 10)} (${results.startedAt.slice(11, 16)}–${results.date.slice(11, 16)} UTC)` : `finished ${utc(results.date)}`
  const generator = results.wrkThreads ? `${results.loadGenerator} (${results.wrkThreads} thread${results.wrkThreads === 1 ? '' : 's'})` : results.loadGenerator
  const nodeOptions = results.serverNodeOptions ? `, NODE_OPTIONS \`${results.serverNodeOptions}\` for every server` : ''
  return [
    `One run of \`npx -y pnpm@10.34.9 bench\` ${when},`,
    'committed as [`bench/results/latest.json`](../bench/results/latest.json):',
    `${machine.cpus} CPUs${machine.model ? ` (${machine.model})` : ''}, Node ${machine.node}, load from ${generator},`,
    `${results.connections} connections, ${results.durationSec} s per scenario after a warm-up${nodeOptions},`,
    `load average ${machine.loadAverageAtStart[0]} at the start and ${machine.loadAverageAtEnd[0]} at the end.`,
  ].join('\n')
}

/** `text` with the block between `<!-- bench:<name>:start -->` and `<!-- bench:<name>:end -->` replaced by `body`. */
function replaceBlock(text: string, name: string, body: string): string {
  const start = `<!-- bench:${name}:start -->`
  const end = `<!-- bench:${name}:end -->`
  const from = text.indexOf(start)
  const to = text.indexOf(end)
  if (from < 0 || to < from) throw new Error(`markers ${start} … ${end} not found in docs/performance.md`)
  return `${text.slice(0, from + start.length)}\n${body}\n${text.slice(to)}`
}

/** The docs with the run description, the results table and the targets table rendered from `results`. */
export function renderPerfDocs(text: string, results: BenchResults): string {
  let out = replaceBlock(text, 'run', describeRun(results))
  out = replaceBlock(out, 'results', markdownTable(results.rows))
  return replaceBlock(out, 'targets', markdownTargets(results.rows))
}

/** Regenerates docs/performance.md from bench/results/latest.json. */
export function writePerfDocs(): void {
  writeFileSync(perfDocsFile, renderPerfDocs(readFileSync(perfDocsFile, 'utf8'), readResults()))
}

if (import.meta.main) {
  writePerfDocs()
  process.stdout.write('docs/performance.md: run, results and targets regenerated from bench/results/latest.json\n')
}
