import { execFile, execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { LoadOptions, LoadResult } from './load.types.ts'

export function wrkInstalled(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' })
    return true
  } catch (error) {
    // wrk prints its usage and exits 1 on --version: it is there.
    return (error as { status?: number }).status === 1
  }
}

const luaString = (value: string) => JSON.stringify(value)
/** wrk threads (BENCH_WRK_THREADS, default 1: one thread drives 100k req/s, and this machine kind has 2 cores). */
const threadCount = () => Math.max(1, Number(process.env.BENCH_WRK_THREADS ?? 1) || 1)

/** wrk (C, LuaJIT scripts written to a scratch directory). */
export async function runWrk(options: LoadOptions): Promise<LoadResult> {
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
        lines.push(`request = function()`, `  next = next + 1`, `  if next > count then next = 1; reused = 1 end`, `  return wrk.format(nil, nil, { ["authorization"] = "Bearer " .. tokens[next] })`, `end`)
      } else if (options.bodies) {
        lines.push(`request = function()`, `  next = next % count + 1`, `  return wrk.format(nil, nil, nil, tokens[next])`, `end`)
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
