// One command: `npx -y pnpm@10.34.9 bench` (from the repository root).
// Every server runs in its own process on loopback; the load comes from wrk (or autocannon when wrk
// is not installed, or for the token-service scenarios that need per-connection refresh chains or a
// paced rate). Each figure is reported as a ratio to a baseline measured in the same run, never as an
// absolute pass/fail timing. Environment: BENCH_ONLY (verifier,todo-api,token-service; cluster only when named), BENCH_DURATION
// (seconds per scenario, default 8), BENCH_CONNECTIONS (default 32), BENCH_LOAD (wrk|autocannon),
// BENCH_NODE_OPTIONS (NODE_OPTIONS for every server, e.g. --max-semi-space-size=4), BENCH_EXEC_ARGV (node flags
// NODE_OPTIONS refuses, e.g. --cpu-prof), BENCH_FROM=src (todo-api and token-service from their sources, not dist/), BENCH_COOLDOWN (idle seconds
// before each later section, which then measures its own baseline; default 60), BENCH_ONLY=soak (RSS over repeated rounds, below).
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import os from 'node:os'
import { spawnService } from '@todo-auth/testkit'
import { startBenchIssuer } from './lib/issuer.ts'
import { defaultEngine, runLoad, type LoadOptions, type LoadResult } from './lib/load.ts'
import { cpuTimeMs, peakRssMb, serverEnv, serverExecArgv } from './lib/server-process.ts'
import { svgChart, table, targetSummary, type Row } from './lib/report.ts'
import { check } from './lib/targets.ts'
import { clusterScenarios } from './lib/cluster.ts'
import { tokenServiceScenarios, todoApiScenario } from './lib/services.ts'
import { soak } from './lib/soak.ts'
import { verifierScenarios, type Measured } from './lib/verifier.ts'

const root = join(import.meta.dirname, '..')
const durationSec = Number(process.env.BENCH_DURATION ?? 8)
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32)
const only = process.env.BENCH_ONLY?.split(',')
const cooldownSec = Number(process.env.BENCH_COOLDOWN ?? 60)
const want = (name: string) => !only || only.some((o) => name.startsWith(o))

/**
 * Starts one bench server, warms it up (JIT, JWKS fetch, connections; for a token pool, every
 * token verified once) with `warmUp`, then measures `load`. Peak RSS and the server's CPU time
 * per request (all its threads) come from /proc.
 */
async function measure(file: string, env: Record<string, string>, load: Omit<LoadOptions, 'url' | 'durationSec' | 'connections'>, warmUp: Omit<LoadOptions, 'url' | 'durationSec' | 'connections'> = load): Promise<Measured> {
  const service = await spawnService({ entry: join(import.meta.dirname, 'servers', file), env: { ...env, ...serverEnv() }, execArgv: serverExecArgv() })
  try {
    const url = `${service.url}/auth`
    await runLoad({ url, connections, durationSec: Math.max(3, Math.ceil(durationSec / 2)), ...warmUp })
    const cpuBefore = cpuTimeMs(service.child.pid)
    const result = await runLoad({ url, connections, durationSec, ...load })
    const cpuAfter = cpuTimeMs(service.child.pid)
    const cpuUsPerReq = cpuBefore !== null && cpuAfter !== null && result.requests > 0 ? ((cpuAfter - cpuBefore) * 1000) / result.requests : null
    if (result.non2xx > 0 || result.errors > 0) notes.push(`${file}: ${result.non2xx} non-2xx answers and ${result.errors} errors during the measurement`)
    return { ...result, rssMb: peakRssMb(service.child.pid), cpuUsPerReq }
  } finally {
    await service.stop()
  }
}

const rows: Row[] = []
const notes: string[] = []
const startedAt = new Date().toISOString()
const loadAverage = os.loadavg().map((l) => Math.round(l * 100) / 100)
process.stdout.write(`bench: ${os.cpus().length} cpus, node ${process.version}, load generator ${defaultEngine}, ${durationSec}s per scenario, ${connections} connections, load average ${loadAverage.join(' ')}\n`)

// The services run as in production: built to dist/ first (the root `build` script: tsc), unless BENCH_FROM=src.
if (process.env.BENCH_FROM !== 'src' && (want('todo-api') || want('token-service') || want('soak') || only?.includes('cluster'))) {
  const { build } = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: { build: string } }).scripts
  execFileSync('sh', ['-c', build], { cwd: root, stdio: 'inherit', env: { ...process.env, PATH: `${join(root, 'node_modules/.bin')}:${process.env.PATH ?? ''}` } })
}

const machineFacts = () => ({ cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version, loadAverageAtStart: loadAverage, loadAverageAtEnd: os.loadavg().map((l) => Math.round(l * 100) / 100) })

// BENCH_ONLY=cluster (named explicitly; not part of the default run): token-service on a 3-master Redis
// Cluster against one node, back to back. Its own results file, so the main results stay whole.
if (only?.includes('cluster')) {
  const results = await clusterScenarios({ root, connections, durationSec, notes })
  if (typeof results === 'string') notes.push(results)
  else {
    const file = join(import.meta.dirname, 'results', 'cluster.json')
    writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), machine: machineFacts(), loadGenerator: defaultEngine, durationSec, connections, rows: results, notes }, null, 2)}\n`)
    process.stdout.write(`\n${table(results)}\nwrote bench/results/cluster.json\n`)
  }
  if (only.every((o) => o === 'cluster')) {
    for (const note of notes) process.stdout.write(`note: ${note}\n`)
    process.exit(0)
  }
}

const issuer = await startBenchIssuer()
const oneToken = await issuer.sign()
const single = { headers: { authorization: `Bearer ${oneToken}` } }
const row = (name: string, m: Measured | LoadResult, extra: Partial<Row> = {}): Row => ({
  name,
  rps: m.rps,
  p50: m.p50,
  p99: m.p99,
  rssMb: 'rssMb' in m ? m.rssMb : null,
  cpuUsPerReq: 'cpuUsPerReq' in m ? m.cpuUsPerReq : null,
  engine: m.engine,
  baseline: 'baseline',
  ratio: 1,
  ...extra,
})

// The baseline carries the same Authorization header as the one-token scenarios: same request bytes.
const hello = await measure('hello.server.ts', {}, single)
rows.push(row('baseline: fastify hello-world', hello))
const ratio = (rps: number) => rps / hello.rps

let ranSection = false
if (want('verifier')) {
  ranSection = true
  rows.push(...(await verifierScenarios({ issuer, single, connections, durationSec, measure, row, ratio, notes })))
}

/**
 * Before each later section: an idle pause, then the baseline measured again. On the shared VMs this
 * was built on, minutes of load on both cores lower what a process gets per CPU second (hello-world
 * 42k req/s right after a full run, 51-53k after 90 s idle); the section's ratios are to its own
 * fresh baseline, and the row shows how far the machine drifted since the start.
 */
async function sectionBaseline(section: string): Promise<Measured> {
  if (cooldownSec > 0) await new Promise((resolve) => setTimeout(resolve, cooldownSec * 1000))
  const again = await measure('hello.server.ts', {}, single)
  rows.push(row(`baseline again, before ${section}`, again, { ratio: again.rps / hello.rps, baseline: 'first baseline' }))
  return again
}

if (want('todo-api')) {
  const base = !ranSection ? hello : await sectionBaseline('todo-api')
  ranSection = true
  const result = await todoApiScenario({ root, issuer, connections, durationSec })
  if (typeof result === 'string') notes.push(result)
  else {
    rows.push(row('todo-api GET /todos (PostgreSQL, 20 todos)', result, { ratio: result.rps / base.rps, ...check('todo-api-rss', result.rssMb) }))
  }
}

if (want('token-service')) {
  const base = !ranSection ? hello : await sectionBaseline('token-service')
  ranSection = true
  const results = await tokenServiceScenarios({ root, connections, durationSec, notes })
  if (typeof results === 'string') notes.push(results)
  else {
    for (const { vsFloor, ...r } of results) {
      // A "vs the floor" row: the service's rate as a ratio to the floor server's, same grant, same run.
      if (vsFloor !== undefined) rows.push({ name: r.name, rps: r.rps, baseline: 'floor, same grant', ratio: vsFloor, chart: false })
      else rows.push({ ...r, baseline: 'baseline', ratio: r.rps / base.rps })
    }
  }
}

// BENCH_ONLY=soak (not part of the default run): BENCH_SOAK_ROUNDS rounds (default 3) of
// BENCH_SOAK_SECONDS of load (default 10) with BENCH_SOAK_IDLE idle seconds after each (default 10);
// RSS per round as a ratio to round 1 and against BENCH_SOAK_CEILING_MB (default 200).
if (only?.includes('soak')) {
  const ceilingMb = Number(process.env.BENCH_SOAK_CEILING_MB ?? 200)
  const soaked = await soak({
    root,
    issuer,
    connections,
    rounds: Number(process.env.BENCH_SOAK_ROUNDS ?? 3),
    roundSec: Number(process.env.BENCH_SOAK_SECONDS ?? 10),
    idleSec: Number(process.env.BENCH_SOAK_IDLE ?? 10),
  })
  if (typeof soaked === 'string') notes.push(soaked)
  else {
    const first = new Map<string, number>()
    for (const r of soaked) {
      const rss = r.rssAfterLoadMb ?? Number.NaN
      if (r.round === 1) first.set(r.service, rss)
      const ratioToFirst = rss / first.get(r.service)!
      rows.push({
        name: `soak: ${r.service}, round ${r.round} (RSS ${r.rssAfterLoadMb} MB after load, ${r.rssAfterIdleMb} MB idle)`,
        rps: r.rps,
        rssMb: r.rssAfterLoadMb,
        baseline: 'round 1 RSS',
        ratio: ratioToFirst,
        target: `RSS < ${ceilingMb} MB`,
        met: r.peakRssMb !== null && r.peakRssMb < ceilingMb,
        chart: false,
      })
    }
  }
}

await issuer.close()

const stamp = new Date().toISOString()
const output = join(import.meta.dirname, 'results')
if (!existsSync(output)) mkdirSync(output, { recursive: true })
const machine = machineFacts()
const wrkThreads = defaultEngine === 'wrk' ? Number(process.env.BENCH_WRK_THREADS ?? 1) : null
const summary = { date: stamp, startedAt, machine, loadGenerator: defaultEngine, wrkThreads, serverNodeOptions: process.env.BENCH_NODE_OPTIONS ?? null, durationSec, connections, rows, notes }
// A soak run is its own record: it does not replace the full run's latest.json.
const file = only?.includes('soak') ? 'soak' : 'latest'
writeFileSync(join(output, `${file}.json`), `${JSON.stringify(summary, null, 2)}\n`)
writeFileSync(join(output, `${file}.svg`), svgChart(rows, `req/s as a ratio (${stamp.slice(0, 10)}, ${os.cpus().length} cpus, ${defaultEngine}, load average ${loadAverage[0]})`))
process.stdout.write(`\n${table(rows)}\n\n${targetSummary(rows)}\n`)
for (const note of notes) process.stdout.write(`note: ${note}\n`)
process.stdout.write(`load average at the end: ${machine.loadAverageAtEnd.join(' ')}\nwrote bench/results/${file}.json and bench/results/${file}.svg\n`)
// A full run is the one docs/performance.md reports: its "Results" and "Targets" tables are regenerated from it.
if (!only) {
  const { writePerfDocs } = await import('../scripts/perf-docs.ts')
  writePerfDocs()
  process.stdout.write('docs/performance.md: results and targets regenerated from bench/results/latest.json\n')
}
