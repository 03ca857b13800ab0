import autocannon from 'autocannon'
import { readFileSync } from 'node:fs'

export interface LoadResult {
  rps: number
  p50: number
  p99: number
  non2xx: number
  errors: number
  requests: number
}

export interface LoadOptions {
  url: string
  connections?: number
  durationSec: number
  method?: 'GET' | 'POST'
  headers?: Record<string, string>
  body?: string
  /** Called for every request: returns the headers/body to send (token pools, refresh chains). */
  setupRequest?: (request: { headers?: Record<string, string>; body?: string }, context: Record<string, unknown>) => { headers?: Record<string, string>; body?: string }
  onResponse?: (status: number, body: string, context: Record<string, unknown>) => void
  /** Requests per second to send at most (p99 at half of peak). */
  overallRate?: number
}

/** Drives load from this process (the server runs in its own process). */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
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
        ...(options.setupRequest ? { setupRequest: options.setupRequest as never } : {}),
        ...(options.onResponse ? { onResponse: options.onResponse as never } : {}),
      },
    ],
  })
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    requests: result.requests.total,
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
