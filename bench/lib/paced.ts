import { Agent, request } from 'node:http'
import type { LoadResult } from './load.ts'

export interface PacedOptions {
  url: string
  method: 'GET' | 'POST'
  headers: Record<string, string>
  /** Request bodies taken in turn. */
  bodies?: readonly string[]
  /** Rotation chains, as in runLoad: each request spends a pooled token, each 200 returns its successor. */
  chains?: { seeds: readonly string[]; bodyPrefix: string }
  /** Requests per second, sent at evenly spaced instants. */
  rate: number
  durationSec: number
  /** Keep-alive connections at most. */
  connections: number
}

/**
 * An open-loop load at a constant rate (what wrk2 does; neither wrk nor autocannon can: autocannon's
 * rate lets each connection burst until its per-second quota is spent). Latency is measured from the
 * instant a request was due, not from when a free connection sent it, so queueing behind a slow
 * answer is counted (no coordinated omission).
 */
export async function runPaced(options: PacedOptions): Promise<LoadResult & { starved: number }> {
  const url = new URL(options.url)
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections })
  const pool = options.chains ? [...options.chains.seeds] : []
  const latencies: number[] = []
  let non2xx = 0
  let errors = 0
  let starved = 0
  let next = 0
  let pending = 0
  let sent = 0

  const send = (dueAt: number) => {
    let body: string | undefined
    if (options.chains) {
      const token = pool.shift()
      if (token === undefined) {
        starved += 1
        return
      }
      body = options.chains.bodyPrefix + token
    } else if (options.bodies) {
      body = options.bodies[next++ % options.bodies.length]
    }
    pending += 1
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname + url.search, method: options.method, headers: { ...options.headers, ...(body !== undefined ? { 'content-length': Buffer.byteLength(body) } : {}) }, agent },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => {
          pending -= 1
          latencies.push(performance.now() - dueAt)
          const status = res.statusCode ?? 0
          if (status < 200 || status > 299) non2xx += 1
          else if (options.chains) pool.push((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { refresh_token: string }).refresh_token)
        })
      },
    )
    req.on('error', () => {
      pending -= 1
      errors += 1
    })
    req.end(body)
  }

  const started = performance.now()
  const total = Math.floor(options.rate * options.durationSec)
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now()
      const due = Math.min(total, Math.floor(((now - started) / 1000) * options.rate))
      while (sent < due) {
        send(started + (sent * 1000) / options.rate)
        sent += 1
      }
      if (sent >= total) resolve()
      else setTimeout(tick, 1)
    }
    tick()
  })
  const deadline = performance.now() + 10_000
  while (pending > 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5))
  const elapsed = (performance.now() - started) / 1000
  agent.destroy()
  latencies.sort((a, b) => a - b)
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0
  return { rps: latencies.length / elapsed, p50: at(0.5), p99: at(0.99), non2xx, errors: errors + pending, requests: latencies.length, engine: 'paced', starved }
}
