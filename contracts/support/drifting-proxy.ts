import { createServer, request, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'

/** One answer of the real provider, as the proxy is about to pass it on. */
export interface ProxiedResponse {
  method: string
  path: string
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
}

/** Changes one field of some answers: the deliberate drift. Returns nothing to pass an answer on unchanged. */
// biome-ignore lint/suspicious/noConfusingVoidType: a drift may edit the response in place and return nothing.
export type Drift = (response: ProxiedResponse) => ProxiedResponse | void

/** Rewrites the JSON body of the answers to `method path` (200s only). */
export function driftJson(method: string, path: string, change: (body: Record<string, unknown>) => void): Drift {
  return (response) => {
    if (response.method !== method || response.path.split('?')[0] !== path || response.status !== 200) return
    const body = JSON.parse(response.body.toString('utf8')) as Record<string, unknown>
    change(body)
    return { ...response, body: Buffer.from(JSON.stringify(body)) }
  }
}

/** Rewrites one header of the answers to `method path`. */
export function driftHeader(method: string, path: string, header: string, change: (value: string) => string): Drift {
  return (response) => {
    if (response.method !== method || response.path.split('?')[0] !== path) return
    const value = response.headers[header]
    if (value === undefined) return
    const headers = { ...response.headers, [header]: Array.isArray(value) ? value.map(change) : change(value) }
    return { ...response, headers } as ProxiedResponse
  }
}

const hopByHop = ['connection', 'keep-alive', 'transfer-encoding', 'content-length']

/**
 * An HTTP proxy on 127.0.0.1:0 in front of a real provider that passes every
 * request through unchanged and applies `drift` to the answers: the provider
 * as it would be with one field changed, without touching its code.
 */
export async function startDriftingProxy(target: string, drift: Drift): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((incoming, outgoing) => {
    const upstream = request(new URL(incoming.url ?? '/', target), { method: incoming.method, headers: incoming.headers }, (answer) => {
      const chunks: Buffer[] = []
      answer.on('data', (chunk: Buffer) => chunks.push(chunk))
      answer.on('end', () => {
        const original: ProxiedResponse = {
          method: incoming.method ?? 'GET',
          path: incoming.url ?? '/',
          status: answer.statusCode ?? 502,
          headers: { ...answer.headers },
          body: Buffer.concat(chunks),
        }
        const response = drift(original) ?? original
        const headers = Object.fromEntries(Object.entries(response.headers).filter(([name, value]) => value !== undefined && !hopByHop.includes(name)))
        outgoing.writeHead(response.status, headers as Record<string, string | string[]>).end(response.body)
      })
    })
    upstream.on('error', (error) => outgoing.writeHead(502).end(String(error)))
    incoming.pipe(upstream)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
