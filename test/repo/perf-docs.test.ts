import t from 'tap'
import { readFileSync } from 'node:fs'
import { perfDocsFile, readResults, renderPerfDocs } from '../../scripts/perf-docs.ts'
import { markdownTargets, table, targetSummary, type Row } from '../../bench/lib/report.ts'
import { check, evaluateTargets, targetIds, targets } from '../../bench/lib/targets.ts'

t.test('docs/performance.md shows the run, results and targets of bench/results/latest.json exactly', async (t) => {
  const docs = readFileSync(perfDocsFile, 'utf8')
  t.equal(renderPerfDocs(docs, readResults()), docs, 'regenerate with: node scripts/perf-docs.ts')
})

t.test('docs/performance.md lists every target of bench/lib/targets.ts', async (t) => {
  const docs = readFileSync(perfDocsFile, 'utf8')
  const block = docs.slice(docs.indexOf('<!-- bench:targets:start -->'), docs.indexOf('<!-- bench:targets:end -->'))
  for (const id of targetIds) t.match(block, `| ${targets[id].description} |`, id)
})

t.test('a target is met at its bound for a minimum, and only below it for a maximum', async (t) => {
  const cases = [
    { id: 'auth-one-token', value: 0.9, met: true },
    { id: 'auth-one-token', value: 0.8999, met: false },
    { id: 'exchange-rps', value: 5000, met: true },
    { id: 'refresh-rps', value: 11999, met: false },
    { id: 'exchange-p99', value: 9.99, met: true },
    { id: 'refresh-p99', value: 10, met: false },
    { id: 'todo-api-rss', value: 149.9, met: true },
    { id: 'token-service-rss', value: 150, met: false },
    { id: 'todo-api-rss', value: null, met: false },
    { id: 'cache-miss', value: Number.NaN, met: false },
  ] as const
  for (const { id, value, met } of cases) t.same(check(id, value), { targetId: id, target: targets[id].label, met }, `${id} ${value}`)
})

const rows: Row[] = [
  { name: 'baseline: fastify hello-world', rps: 40000, baseline: 'baseline', ratio: 1, p99: 2, rssMb: 100 },
  { name: 'a renamed todo-api row', rps: 4000, baseline: 'baseline', ratio: 0.1, rssMb: 151, targetId: 'todo-api-rss', target: 'RSS < 150 MB', met: false },
  // An older results file: the row carries no targetId and a stale target; today's applies.
  { name: 'token-service exchange', rps: 4500, baseline: 'baseline', ratio: 0.11, target: '≥ 4000/s', met: true },
]

t.test('targets are found by targetId, else by row name, and judged against today’s thresholds', async (t) => {
  const results = new Map(evaluateTargets(rows).map((r) => [r.id, r]))
  t.equal(results.get('todo-api-rss')?.row?.name, 'a renamed todo-api row')
  t.equal(results.get('todo-api-rss')?.met, false)
  t.equal(results.get('exchange-rps')?.met, false, '4500/s misses 5000/s whatever the file says')
  t.equal(results.get('refresh-rps')?.row, undefined, 'not measured')
})

t.test('the bench prints PASS/MISS beside each target with its figure and ratio', async (t) => {
  const summary = targetSummary(rows)
  t.match(summary, 'MISS  todo-api peak RSS < 150 MB: 151.0 MB (1.51× hello-world’s)'.replace('’', "'"))
  t.match(summary, 'MISS  token-service exchange ≥ 5000 req/s: 4500/s (0.11× baseline)')
  t.match(summary, '----  token-service refresh ≥ 12000 req/s: not measured')
  t.match(table(rows), /≥ 5000\/s\s+\| MISS/)
  t.match(markdownTargets(rows), '| token-service exchange ≥ 5000 req/s | 4500/s | 0.11× baseline | **MISS** |')
})
