import autocannon from 'autocannon'
import type { LoadOptions, LoadResult } from './load.types.ts'

/** autocannon (npm): the generator that can pace, and call back per request and response. */
export async function runAutocannon(options: LoadOptions): Promise<LoadResult> {
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
