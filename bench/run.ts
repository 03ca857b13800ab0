// One command: `npx -y pnpm@10.34.9 bench` (from the repository root).
// Every server runs in its own process on loopback; the load comes from this
// process (autocannon). Each figure is reported as a ratio to a baseline
// measured in the same run, never as an absolute pass/fail timing.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import os from 'node:os'
import { createLocalJWKSet, jwtVerify } from 'jose'
import { spawnService, type SpawnedService } from '@todo-auth/testkit'
import { startBenchIssuer, type BenchIssuer } from './lib/issuer.ts'
import { peakRssMb, runLoad, type LoadResult } from './lib/load.ts'
import { svgChart, table, type Row } from './lib/report.ts'
import { tokenServiceScenarios, todoApiScenario } from './lib/services.ts'

const root = join(import.meta.dirname, '..')
const durationSec = Number(process.env.BENCH_DURATION ?? 8)
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32)
const only = process.env.BENCH_ONLY?.split(',')

const want = (name: string) => !only || only.some((o) => name.startsWith(o))

async function server(file: string, env: Record<string, string>): Promise<SpawnedService> {
  return spawnService({ entry: join(import.meta.dirname, 'servers', file), env })
}

async function measure(file: string, env: Record<string, string>, load: (url: string) => Promise<LoadResult>) {
  const service = await server(file, env)
  try {
    // Warm-up: JIT, JWKS fetch, connection setup.
    await load(`${service.url}/auth`).catch(() => undefined)
    const result = await load(`${service.url}/auth`)
    return { ...result, rssMb: peakRssMb(service.child.pid) }
  } finally {
    await service.stop()
  }
}

async function rawVerifyPerSecond(issuer: BenchIssuer, tokens: string[]): Promise<number> {
  const response = await fetch(issuer.jwksUrl)
  const jwks = createLocalJWKSet((await response.json()) as never)
  const options = { issuer: issuer.issuer, audience: issuer.audience, algorithms: ['ES256'], typ: 'at+jwt' }
  const start = performance.now()
  let count = 0
  while (performance.now() - start < 2000) {
    await jwtVerify(tokens[count % tokens.length]!, jwks, options)
    count += 1
  }
  return count / ((performance.now() - start) / 1000)
}

const rows: Row[] = []
const notes: string[] = []
const issuer = await startBenchIssuer()
const authEnv = { JWKS_URL: issuer.jwksUrl, ISSUER: issuer.issuer, AUDIENCE: issuer.audience }

const oneToken = await issuer.sign()
const pool: string[] = []
for (let i = 0; i < 10_000; i += 1) pool.push(await issuer.sign())
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

const single = (url: string) => runLoad({ url, connections, durationSec, headers: bearer(oneToken) })
const pooled = (tokens: string[]) => {
  let i = 0
  return (url: string) =>
    runLoad({
      url,
      connections,
      durationSec,
      setupRequest: (request) => ({ ...request, headers: { ...request.headers, ...bearer(tokens[i++ % tokens.length]!) } }),
    })
}

process.stdout.write(`bench: ${os.cpus().length} cpus, node ${process.version}, ${durationSec}s per scenario, ${connections} connections\n`)

const hello = await measure('hello.server.ts', {}, (url) => runLoad({ url, connections, durationSec }))
rows.push({ name: 'baseline: fastify hello-world', ...hello, baseline: 'baseline', ratio: 1 })
const ratio = (rps: number) => rps / hello.rps

if (want('verifier')) {
  const one = await measure('verifier.server.ts', authEnv, single)
  rows.push({ name: 'token-verifier, 1 token', ...one, baseline: 'baseline', ratio: ratio(one.rps), target: '≥ 0.90×', met: ratio(one.rps) >= 0.9 })
  const many = await measure('verifier.server.ts', authEnv, pooled(pool))
  rows.push({ name: 'token-verifier, 10 000 tokens', ...many, baseline: 'baseline', ratio: ratio(many.rps), target: '≥ 0.85×', met: ratio(many.rps) >= 0.85 })

  // Cache-miss path: every request carries a token never seen before.
  const fresh: string[] = []
  const needed = Math.min(400_000, Math.ceil(Math.max(one.rps, 5000) * durationSec * 1.3))
  for (let i = 0; i < needed; i += 1) fresh.push(await issuer.sign())
  const raw = await rawVerifyPerSecond(issuer, pool)
  rows.push({ name: 'raw ES256 jwtVerify (jose, in-process)', rps: raw, baseline: 'baseline', ratio: ratio(raw) })
  let i = 0
  const miss = await measure('verifier.server.ts', authEnv, (url) =>
    runLoad({ url, connections, durationSec, setupRequest: (request) => ({ ...request, headers: { ...request.headers, ...bearer(fresh[i++ % fresh.length]!) } }) }),
  )
  if (i > fresh.length) notes.push(`cache-miss scenario reused tokens after ${fresh.length} requests`)
  rows.push({ name: 'token-verifier, every token new', ...miss, baseline: 'raw ES256', ratio: miss.rps / raw, target: '≥ 0.90× raw', met: miss.rps / raw >= 0.9 })

  const fjDefault = await measure('fastify-jwt.server.ts', authEnv, single)
  rows.push({ name: 'peer: @fastify/jwt + get-jwks', ...fjDefault, baseline: 'baseline', ratio: ratio(fjDefault.rps) })
  const fjCache = await measure('fastify-jwt.server.ts', { ...authEnv, FAST_JWT_CACHE: 'true' }, single)
  rows.push({ name: 'peer: @fastify/jwt + get-jwks, fast-jwt cache', ...fjCache, baseline: 'baseline', ratio: ratio(fjCache.rps) })
  rows.push({ name: 'token-verifier vs @fastify/jwt cached', rps: one.rps, baseline: '@fastify/jwt cached', ratio: one.rps / fjCache.rps, target: '≥ 1.5×', met: one.rps / fjCache.rps >= 1.5 })
  const ex = await measure('express-jwt.server.ts', authEnv, single)
  rows.push({ name: 'peer: express + express-jwt + jwks-rsa', ...ex, baseline: 'baseline', ratio: ratio(ex.rps) })
}

if (want('todo-api')) {
  const result = await todoApiScenario({ root, issuer, connections, durationSec })
  if (typeof result === 'string') notes.push(result)
  else rows.push({ name: 'todo-api GET /todos (PostgreSQL)', ...result, baseline: 'baseline', ratio: ratio(result.rps), target: 'RSS < 150 MB', met: (result.rssMb ?? 0) < 150 })
}

if (want('token-service')) {
  const results = await tokenServiceScenarios({ root, connections, durationSec })
  if (typeof results === 'string') notes.push(results)
  else {
    for (const r of results) rows.push({ ...r, baseline: 'baseline', ratio: ratio(r.rps) })
  }
}

await issuer.close()

const stamp = new Date().toISOString()
const output = join(import.meta.dirname, 'results')
if (!existsSync(output)) mkdirSync(output, { recursive: true })
const summary = { date: stamp, machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version }, durationSec, connections, rows, notes }
writeFileSync(join(output, 'latest.json'), JSON.stringify(summary, null, 2) + '\n')
writeFileSync(join(output, 'latest.svg'), svgChart(rows, `req/s as a ratio to the baseline (${stamp.slice(0, 10)}, ${os.cpus().length} cpus)`))
process.stdout.write(`\n${table(rows)}\n`)
for (const note of notes) process.stdout.write(`note: ${note}\n`)
process.stdout.write(`\nwrote bench/results/latest.json and bench/results/latest.svg\n`)
