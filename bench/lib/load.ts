import autocannon from 'autocannon'
import { execFile, execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface LoadResult {
  /** Rotation chains only: requests sent while every chain was waiting for its answer (sent as invalid grants). */
  starved?: number
  rps: number
  /** Latency percentiles, ms. */
  p50: number
  p99: number
  non2xx: number
  errors: number
  requests: number
  /** Which load generator measured this. */
  engine: Engine
  /** True when a pool of single-use tokens ran out and was reused (the figure then includes cache hits). */
  reused?: boolean
}

/** `paced`: bench/lib/paced.ts, a constant-rate open loop. */
export type Engine = 'wrk' | 'autocannon' | 'paced'

export interface LoadOptions {
  url: string
  connections?: number
  durationSec: number
  method?: 'GET' | 'POST'
  headers?: Record<string, string>
  body?: string
  /** `Authorization: Bearer <token>` taken from this pool in turn, one per request. */
  tokens?: readonly string[]
  /** Request bodies taken in turn, one per request. */
  bodies?: readonly string[]
  /**
   * Rotation chains (refresh grants): each request spends one token from a pool seeded with `seeds`;
   * each 200 answer puts the `refresh_token` it returns back into the pool. The body is `bodyPrefix`
   * followed by the token (base64url: no escaping needed).
   */
  chains?: { seeds: readonly string[]; bodyPrefix: string }
  /**
   * Called for every request: returns the headers/body to send (request bodies that change,
   * refresh chains). autocannon only: wrk cannot tell connections apart in its scripts.
   */
  setupRequest?: (request: { headers?: Record<string, string>; body?: string }, context: Record<string, unknown>) => { headers?: Record<string, string>; body?: string }
  onResponse?: (status: number, body: string, context: Record<string, unknown>) => void
  /** Requests per second to send at most (p99 at half of peak). autocannon only: wrk cannot pace. */
  overallRate?: number
  /** Force a generator; default {@link defaultEngine}. */
  engine?: Engine
}

function wrkInstalled(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' })
    return true
  } catch (error) {
    // wrk prints its usage and exits 1 on --version: it is there.
    return (error as { status?: number }).status === 1
  }
}

/**
 * wrk (C, event loop, LuaJIT) when it is on PATH, else autocannon (npm). On a 2-core machine the
 * generator shares the CPU with the server: wrk needs a fraction of autocannon's CPU for the same
 * request rate, so the server, not the generator, is what gets measured. BENCH_LOAD overrides.
 */
export const defaultEngine: 'wrk' | 'autocannon' = (() => {
  const wanted = process.env.BENCH_LOAD
  if (wanted === 'wrk' || wanted === 'autocannon') return wanted
  return wrkInstalled() ? 'wrk' : 'autocannon'
})()

/** Drives load from outside the server process. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const paced = options.setupRequest !== undefined || options.onResponse !== undefined || options.overallRate !== undefined
  const engine = paced ? 'autocannon' : (options.engine ?? defaultEngine)
  return engine === 'wrk' ? runWrk(options) : runAutocannon(options)
}

async function runAutocannon(options: LoadOptions): Promise<LoadResult> {
  let next = 0
  let reused = false
  let starved = 0
  const { tokens, bodies, chains } = options
  const pool = chains ? [...chains.seeds] : []
  type Request = { headers?: Record<string, string>; body?: string }
  const setupRequest =
    options.setupRequest ??
    (tokens
      ? (request: Request) => {
          if (next >= tokens.length) {
            next = 0
            reused = true
          }
          return { ...request, headers: { ...request.headers, authorization: `Bearer ${tokens[next++]}` } }
        }
      : bodies
        ? (request: Request) => ({ ...request, body: bodies[next++ % bodies.length] })
        : chains
          ? (request: Request) => {
              const token = pool.shift()
              if (token === undefined) starved += 1
              return { ...request, body: `${chains.bodyPrefix}${token ?? 'starved'}` }
            }
          : undefined)
  const onResponse =
    options.onResponse ??
    (chains
      ? (status: number, body: string) => {
          if (status === 200) pool.push((JSON.parse(body) as { refresh_token: string }).refresh_token)
        }
      : undefined)
  const result = await autocannon({
    url: options.url,
    connections: options.connections ?? 32,
    duration: options.durationSec,
    ...(options.overallRate ? { overallRate: options.overallRate } : {}),
    requests: [
      {
        method: options.method ?? 'GET',
        headers: options.headers ?? {},
        ...(options.body !== undefined ? { body: options.body } : {}),
        ...(setupRequest ? { setupRequest: setupRequest as never } : {}),
        ...(onResponse ? { onResponse: onResponse as never } : {}),
      },
    ],
  })
  return {
    rps: result.requests.total / options.durationSec,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    requests: result.requests.total,
    engine: 'autocannon',
    ...(tokens ? { reused } : {}),
    ...(chains ? { starved } : {}),
  }
}

const luaString = (value: string) => JSON.stringify(value)
/** wrk threads (BENCH_WRK_THREADS, default 1: one thread drives 100k req/s, and this machine kind has 2 cores). */
const threadCount = () => Math.max(1, Number(process.env.BENCH_WRK_THREADS ?? 1) || 1)

async function runWrk(options: LoadOptions): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-wrk-'))
  try {
    const script = join(dir, 'load.lua')
    const lines: string[] = []
    if (options.method && options.method !== 'GET') lines.push(`wrk.method = ${luaString(options.method)}`)
    if (options.body !== undefined) lines.push(`wrk.body = ${luaString(options.body)}`)
    for (const [name, value] of Object.entries(options.headers ?? {})) lines.push(`wrk.headers[${luaString(name)}] = ${luaString(value)}`)
    lines.push('local tokens, count, next, reused, starved = {}, 0, 0, 0, 0')
    const list = options.tokens ?? options.bodies ?? options.chains?.seeds
    if (list) {
      const file = join(dir, 'lines.txt')
      writeFileSync(file, `${list.join('\n')}\n`)
      // Each wrk thread has its own Lua state: thread k takes every line whose number is k modulo the thread count.
      lines.push(
        `local threads, started = ${Number(threadCount())}, 0`,
        `setup = function(thread) thread:set("tid", started); started = started + 1 end`,
        `init = function(args)`,
        `  local line_no = 0`,
        `  for line in io.lines(${luaString(file)}) do`,
        `    if #line > 0 then`,
        `      if line_no % threads == tid then count = count + 1; tokens[count] = line end`,
        `      line_no = line_no + 1`,
        `    end`,
        `  end`,
        `end`,
      )
      // Without a request() function wrk sends one pre-built request; with it, one per call.
      if (options.tokens) {
        lines.push(
          `request = function()`,
          `  next = next + 1`,
          `  if next > count then next = 1; reused = 1 end`,
          `  return wrk.format(nil, nil, { ["authorization"] = "Bearer " .. tokens[next] })`,
          `end`,
        )
      } else if (options.bodies) {
        lines.push(
          `request = function()`,
          `  next = next % count + 1`,
          `  return wrk.format(nil, nil, nil, tokens[next])`,
          `end`,
        )
      } else {
        // tokens[next + 1 .. count] is the queue of chain heads waiting to be spent.
        lines.push(
          `local prefix = ${luaString(options.chains!.bodyPrefix)}`,
          `request = function()`,
          `  if next >= count then starved = starved + 1; return wrk.format(nil, nil, nil, prefix .. "starved") end`,
          `  next = next + 1`,
          `  local token = tokens[next]; tokens[next] = nil`,
          `  return wrk.format(nil, nil, nil, prefix .. token)`,
          `end`,
          `response = function(status, headers, body)`,
          `  if status == 200 then`,
          `    local token = body:match('"refresh_token":"([A-Za-z0-9_-]+)"')`,
          `    if token then count = count + 1; tokens[count] = token end`,
          `  end`,
          `end`,
        )
      }
    }
    const out = join(dir, 'result.json')
    lines.push(
      `done = function(summary, latency, requests)`,
      `  local e = summary.errors`,
      `  local f = io.open(${luaString(out)}, "w")`,
      `  f:write(string.format('{"requests":%d,"durationUs":%d,"p50Us":%d,"p99Us":%d,"status":%d,"errors":%d,"reused":%d,"starved":%d}',`,
      `    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout, reused, starved))`,
      `  f:close()`,
      `end`,
    )
    writeFileSync(script, `${lines.join('\n')}\n`)
    const args = ['-t', String(threadCount()), '-c', String(options.connections ?? 32), '-d', `${options.durationSec}s`, '--timeout', '10s', '-s', script, options.url]
    // Asynchronous on purpose: the bench issuer's JWKS server lives in this process and must keep answering.
    await new Promise<void>((resolve, reject) => {
      execFile('wrk', args, { maxBuffer: 16 * 1024 * 1024 }, (error) => (error ? reject(error) : resolve()))
    })
    const r = JSON.parse(readFileSync(out, 'utf8')) as { requests: number; durationUs: number; p50Us: number; p99Us: number; status: number; errors: number; reused: number; starved: number }
    return {
      rps: r.requests / (r.durationUs / 1e6),
      p50: r.p50Us / 1000,
      p99: r.p99Us / 1000,
      non2xx: r.status,
      errors: r.errors,
      requests: r.requests,
      engine: 'wrk',
      ...(options.tokens ? { reused: r.reused === 1 } : {}),
      ...(options.chains ? { starved: r.starved } : {}),
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Peak resident set size of a process so far (Linux VmHWM), in MB. */
export function peakRssMb(pid: number | undefined): number | null {
  if (pid === undefined) return null
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = Number(/VmHWM:\s+(\d+)\s+kB/.exec(status)?.[1])
    return Number.isFinite(kb) ? Math.round(kb / 102.4) / 10 : null
  } catch {
    return null
  }
}

/** CPU time (user + system) a process has used so far, in ms (Linux /proc, 100 ticks per second). */
export function cpuTimeMs(pid: number | undefined): number | null {
  if (pid === undefined) return null
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return (Number(fields[11]) + Number(fields[12])) * 10
  } catch {
    return null
  }
}

/**
 * Environment every spawned server gets on top of its own: NODE_ENV removed (behaviour is switched
 * by explicit settings), and BENCH_NODE_OPTIONS, when set, as NODE_OPTIONS (e.g. a V8 heap flag
 * whose effect on RSS and throughput is being measured).
 */
/** Node flags for every server (BENCH_EXEC_ARGV, space-separated): the ones NODE_OPTIONS refuses, such as --cpu-prof or --trace-gc. */
export function serverExecArgv(): string[] {
  return process.env.BENCH_EXEC_ARGV?.split(' ').filter((flag) => flag.length > 0) ?? []
}

export function serverEnv(): Record<string, string | undefined> {
  return { NODE_ENV: undefined, ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}) }
}
