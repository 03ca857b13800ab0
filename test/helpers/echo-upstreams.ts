// Echo upstreams for the gateway tests: each answers every request with what reached it.
import { createHash } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { Test } from 'tap'
import { loadRouteTable, upstreamNames, type UpstreamName } from '../../infra/gateway/routes.ts'

export interface Echo {
  upstream: UpstreamName
  method: string
  url: string
  headers: IncomingHttpHeaders
  bodyLength: number
  bodySha256: string
}

/** An upstream that answers every request with what it received; `?status=` and `?cookie=` shape the answer. */
export async function startEcho(upstream: UpstreamName, hits: Echo[]): Promise<{ server: Server; hostPort: string }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const echo: Echo = {
        upstream,
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        bodyLength: body.length,
        bodySha256: createHash('sha256').update(body).digest('hex'),
      }
      hits.push(echo)
      const query = new URL(req.url ?? '/', 'http://x').searchParams
      const headers: Record<string, string | string[]> = { 'content-type': 'application/json', 'x-upstream': upstream }
      // A CORS preflight is answered as a service would (the services' @fastify/cors), so the test sees it come back intact.
      if (req.method === 'OPTIONS' && req.headers.origin) Object.assign(headers, { 'access-control-allow-origin': req.headers.origin, 'access-control-allow-methods': 'GET, POST', vary: 'Origin' })
      if (query.get('cookie')) headers['set-cookie'] = [`a=${query.get('cookie')}; Path=/; HttpOnly`, 'b=2; Path=/oauth; Secure']
      res.writeHead(Number(query.get('status') ?? 200), headers)
      res.end(req.method === 'HEAD' ? undefined : JSON.stringify(echo))
    })
  })
  await new Promise<void>((done) => server.listen({ host: '127.0.0.1', port: 0 }, done))
  const address = server.address()
  return { server, hostPort: `127.0.0.1:${typeof address === 'object' && address ? address.port : 0}` }
}

/** One echo upstream per service name, closed at the end of `t`; `hits` records every request. */
export async function startEchoUpstreams(t: Pick<Test, 'teardown'>): Promise<{ hits: Echo[]; echoes: Record<UpstreamName, string> }> {
  const hits: Echo[] = []
  const echoes = {} as Record<UpstreamName, string>
  for (const name of upstreamNames) {
    const echo = await startEcho(name, hits)
    echoes[name] = echo.hostPort
    t.teardown(() => new Promise<void>((done) => echo.server.close(() => done())))
  }
  return { hits, echoes }
}

/** Paths that must reach each upstream: every route path, below it, with a query. */
export function routedPaths(table = loadRouteTable()): [string, UpstreamName][] {
  const out: [string, UpstreamName][] = []
  for (const route of table.routes) {
    if (route.path.endsWith('/')) out.push([route.path, route.upstream], [`${route.path}x/y`, route.upstream])
    else out.push([route.path, route.upstream], [`${route.path}/`, route.upstream], [`${route.path}/abc`, route.upstream])
    out.push([`${route.path.endsWith('/') ? `${route.path}q` : route.path}?a=1&b=%20`, route.upstream])
  }
  return out
}
