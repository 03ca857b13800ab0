// The route table (infra/gateway/routes.json) as both gateways serve it: nginx
// with the config compose uses (default.conf.template) and the Node development
// gateway. Upstreams here are echo servers that report what reached them, so
// every route, header and body byte can be checked; test/gateway-services.test.ts
// puts the same gateways in front of the real services.
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http'
import { extname } from 'node:path'
import t from 'tap'
import { requestIdPattern } from '@todo-auth/observability'
import { loadRouteTable, upstreamNames, type UpstreamName } from '../infra/gateway/routes.ts'
import { gatewayKinds, nginxBinary, startGateway, type GatewayKind } from './helpers/gateways.ts'

interface Echo {
  upstream: UpstreamName
  method: string
  url: string
  headers: IncomingHttpHeaders
  bodyLength: number
  bodySha256: string
}

const table = loadRouteTable()

/** The types the demo page's files must be served with (both gateways list them: dev-gateway.ts, default.conf.template). */
const webTypes: Readonly<Record<string, string>> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' }

/** An upstream that answers every request with what it received; `?status=` and `?cookie=` shape the answer. */
async function startEcho(upstream: UpstreamName, hits: Echo[]): Promise<{ server: Server; hostPort: string }> {
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

const hits: Echo[] = []
const echoes = {} as Record<UpstreamName, string>
for (const name of upstreamNames) {
  const echo = await startEcho(name, hits)
  echoes[name] = echo.hostPort
  t.teardown(() => new Promise<void>((done) => echo.server.close(() => done())))
}

/** Paths that must reach each upstream: every route path, below it, with a query. */
function routedPaths(): [string, UpstreamName][] {
  const out: [string, UpstreamName][] = []
  for (const route of table.routes) {
    if (route.path.endsWith('/')) out.push([route.path, route.upstream], [`${route.path}x/y`, route.upstream])
    else out.push([route.path, route.upstream], [`${route.path}/`, route.upstream], [`${route.path}/abc`, route.upstream])
    out.push([`${route.path.endsWith('/') ? `${route.path}q` : route.path}?a=1&b=%20`, route.upstream])
  }
  return out
}

/** Paths that must reach no upstream: near misses, the admin API and the services' operational endpoints. */
const unroutedPaths = [
  '/api/auth',
  '/api/authx',
  '/API/auth/jwks',
  '/oauth',
  '/oauthx/token',
  '/.well-known',
  '/sessionsx',
  '/todosx',
  '/todo',
  '/admin/keys',
  '/admin/keys/rotate',
  '/admin/users/x/sessions',
  '/metrics',
  '/healthz',
  '/readyz',
  '/nope.html',
]

function gatewayTest(kind: GatewayKind) {
  const skip = kind === 'nginx' && !nginxBinary() ? 'nginx is not installed here (apt-get install nginx; CI installs it in .ci/run)' : false
  t.test(`the ${kind} gateway serves the route table`, { skip }, async (t) => {
    const gateway = await startGateway(kind, echoes)
    t.teardown(() => gateway.stop())
    const base = gateway.url
    const origin = new URL(base).host

    t.test('every route reaches its upstream with the path and query unchanged', async (t) => {
      for (const [path, upstream] of routedPaths()) {
        const response = await fetch(`${base}${path}`)
        t.equal(response.status, 200, `${path} answers`)
        const echo = (await response.json()) as Echo
        t.equal(echo.upstream, upstream, `${path} goes to ${upstream}`)
        t.equal(echo.url, path, `${path} arrives unchanged`)
      }
    })

    t.test('every method is forwarded and the upstream status comes back as it is, with no retry', async (t) => {
      for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
        const response = await fetch(`${base}/todos/1`, { method })
        t.equal(((await response.json()) as Echo).method, method, `${method} /todos/1`)
      }
      const before = hits.length
      const unavailable = await fetch(`${base}/.well-known/jwks.json?status=503`)
      t.equal(unavailable.status, 503)
      await unavailable.arrayBuffer()
      t.equal(hits.length, before + 1, 'a 503 is passed on, not retried')
      const noContent = await fetch(`${base}/sessions/abc?status=204`, { method: 'DELETE' })
      t.equal(noContent.status, 204)
    })

    t.test('a CORS preflight on every route reaches its service, and its answer comes back unchanged', async (t) => {
      const preflight = { origin: 'https://app.example.test', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' }
      for (const [path, upstream] of routedPaths()) {
        const response = await fetch(`${base}${path}`, { method: 'OPTIONS', headers: preflight })
        t.equal(response.status, 200, `OPTIONS ${path}`)
        t.equal(response.headers.get('access-control-allow-origin'), preflight.origin, `${path}: the service's Allow-Origin`)
        t.equal(response.headers.get('access-control-allow-methods'), 'GET, POST', `${path}: the service's Allow-Methods`)
        t.equal(response.headers.get('vary'), 'Origin', `${path}: Vary`)
        const echo = (await response.json()) as Echo
        t.equal(echo.upstream, upstream, `OPTIONS ${path} goes to ${upstream}`)
        t.equal(echo.method, 'OPTIONS')
        t.equal(echo.headers.origin, preflight.origin, `${path}: Origin is passed on`)
        t.equal(echo.headers['access-control-request-method'], 'POST')
        t.equal(echo.headers['access-control-request-headers'], 'authorization,content-type')
      }
    })

    t.test('paths outside the table reach no service', async (t) => {
      for (const path of unroutedPaths) {
        const before = hits.length
        const response = await fetch(`${base}${path}`, { redirect: 'manual' })
        await response.arrayBuffer()
        t.equal(response.status, 404, `${path} is 404`)
        t.equal(response.headers.get('x-upstream'), null, `${path} comes from no upstream`)
        t.equal(hits.length, before, `${path} reached no upstream`)
      }
    })

    t.test('the demo page is served at / with a strict content security policy', async (t) => {
      for (const path of ['/', '/index.html']) {
        const response = await fetch(`${base}${path}`)
        t.equal(response.status, 200, path)
        t.match(response.headers.get('content-type'), /^text\/html/)
        t.match(response.headers.get('content-security-policy'), /default-src 'none'; script-src 'self'/)
        t.match(response.headers.get('content-security-policy'), /frame-ancestors 'none'/)
        t.equal(response.headers.get('x-content-type-options'), 'nosniff')
        t.match(await response.text(), /<!doctype html>/i)
      }
      const post = await fetch(`${base}/index.html`, { method: 'POST', body: 'x' })
      await post.arrayBuffer()
      t.equal(post.status, 405, 'the page is read-only')
    })

    t.test('every file of web/ is served as it is, with its type (a module script needs a JavaScript type, nosniff refuses others)', async (t) => {
      const webDir = new URL('../web/', import.meta.url)
      for (const name of readdirSync(webDir)) {
        const type = webTypes[extname(name)]
        if (!t.ok(type, `${name} has a known type`) || !type) continue
        const response = await fetch(`${base}/${name}`)
        t.equal(response.status, 200, `/${name}`)
        t.match(response.headers.get('content-type'), new RegExp(`^${type}(;|$)`), `/${name} is ${type}`)
        t.equal(await response.text(), readFileSync(new URL(name, webDir), 'utf8'), `/${name} byte for byte`)
      }
    })

    t.test('X-Forwarded-For/-Proto/-Host are set by the gateway and forged ones are replaced', async (t) => {
      const response = await fetch(`${base}/oauth/token`, {
        method: 'POST',
        headers: {
          'x-forwarded-for': '6.6.6.6',
          'x-forwarded-proto': 'https',
          'x-forwarded-host': 'evil.example',
          forwarded: 'for=6.6.6.6;proto=https',
          'x-real-ip': '6.6.6.6',
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'grant_type=refresh_token&client_id=web',
      })
      const echo = (await response.json()) as Echo
      t.equal(echo.headers['x-forwarded-for'], '127.0.0.1', 'the client address only')
      t.equal(echo.headers['x-forwarded-proto'], 'http')
      t.equal(echo.headers['x-forwarded-host'], origin, 'the Host the client used')
      t.equal(echo.headers.host, origin, 'Host is passed on')
      t.equal(echo.headers.forwarded, undefined)
      t.equal(echo.headers['x-real-ip'], undefined)
    })

    t.test('every request reaches the service with an X-Request-Id: a valid client one as it is, else a new one', async (t) => {
      const idOf = async (headers: Record<string, string>) => ((await (await fetch(`${base}/todos`, { headers })).json()) as Echo).headers['x-request-id'] as string
      t.equal(await idOf({ 'x-request-id': 'client-42.A_b' }), 'client-42.A_b', 'a valid one is kept')
      const longest = 'z'.repeat(128)
      t.equal(await idOf({ 'x-request-id': longest }), longest, '128 characters are fine')
      const generated = new Set<string>()
      for (const headers of [{}, {}, { 'x-request-id': 'z'.repeat(129) }, { 'x-request-id': 'a b' }, { 'x-request-id': 'a"b' }, { 'x-request-id': '' }] as Record<string, string>[]) {
        const id = await idOf(headers)
        t.match(id, requestIdPattern, `${JSON.stringify(headers)} → a valid id`)
        t.not(id, headers['x-request-id'], 'not the refused one')
        generated.add(id)
      }
      t.equal(generated.size, 6, 'a new id for each request')
      const page = await fetch(`${base}/`, { headers: { 'x-request-id': 'page-1' } })
      await page.arrayBuffer()
      t.equal(page.headers.get('x-request-id'), 'page-1', 'the demo page returns it')
    })

    t.test('W3C trace context passes through untouched', async (t) => {
      const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
      const echo = (await (await fetch(`${base}/oauth/token`, { method: 'POST', headers: { traceparent, tracestate: 'vendor=1' } })).json()) as Echo
      t.equal(echo.headers.traceparent, traceparent)
      t.equal(echo.headers.tracestate, 'vendor=1')
    })

    t.test('cookies and headers pass both ways', async (t) => {
      const response = await fetch(`${base}/oauth/token?cookie=1`, { method: 'POST', headers: { cookie: 'x=1; y=2', origin: 'http://localhost:8080', authorization: 'Bearer abc' } })
      const echo = (await response.json()) as Echo
      t.equal(echo.headers.cookie, 'x=1; y=2')
      t.equal(echo.headers.origin, 'http://localhost:8080')
      t.equal(echo.headers.authorization, 'Bearer abc')
      t.same(response.headers.getSetCookie(), ['a=1; Path=/; HttpOnly', 'b=2; Path=/oauth; Secure'])
    })

    t.test(`bodies up to ${table.bodyLimitBytes} bytes pass byte for byte and larger ones get 413`, async (t) => {
      const atLimit = Buffer.alloc(table.bodyLimitBytes, 'a')
      const ok = await fetch(`${base}/todos`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: atLimit })
      t.equal(ok.status, 200)
      const echo = (await ok.json()) as Echo
      t.equal(echo.bodyLength, atLimit.length)
      t.equal(echo.bodySha256, createHash('sha256').update(atLimit).digest('hex'))

      const form = 'grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&scope=todos%3Aread+todos%3Awrite'
      const formEcho = (await (await fetch(`${base}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form })).json()) as Echo
      t.equal(formEcho.bodySha256, createHash('sha256').update(form).digest('hex'), 'a form body is not re-encoded')

      const before = hits.length
      const tooLarge = await fetch(`${base}/todos`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.alloc(table.bodyLimitBytes + 1, 'a') })
      await tooLarge.arrayBuffer()
      t.equal(tooLarge.status, 413)
      t.equal(hits.length, before, 'the upstream never saw it')
    })

    t.test('a chunked body is limited the same way and reaches the upstream with its length', async (t) => {
      const chunked = (size: number) =>
        new ReadableStream<Uint8Array>({
          start(controller) {
            for (let sent = 0; sent < size; sent += 1000) controller.enqueue(new Uint8Array(Math.min(1000, size - sent)).fill(98))
            controller.close()
          },
        })
      const small = await fetch(`${base}/todos`, { method: 'POST', body: chunked(5000), duplex: 'half' } as RequestInit)
      const echo = (await small.json()) as Echo
      t.equal(echo.bodyLength, 5000)
      t.equal(echo.headers['content-length'], '5000')

      const before = hits.length
      // node:http rather than fetch: a gateway may answer 413 before the body is fully sent and then
      // close; undici turns the write error that follows into 'fetch failed' and hides the answer.
      const big = await new Promise<number | Error>((resolve) => {
        const req = httpRequest(`${base}/todos`, { method: 'POST' }, (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        })
        req.on('error', (error) => resolve(error))
        const chunk = Buffer.alloc(1000, 98)
        let sent = 0
        const pump = () => {
          while (sent < table.bodyLimitBytes + 1000) {
            sent += chunk.length
            if (!req.write(chunk)) {
              req.once('drain', pump)
              return
            }
          }
          req.end()
        }
        pump()
      })
      if (big instanceof Error) t.fail(`the gateway should answer 413, not drop the connection: ${big.message}`)
      else t.equal(big, 413)
      t.equal(hits.length, before, 'the upstream never saw it')
    })
  })
}

for (const kind of gatewayKinds) gatewayTest(kind)

t.test('a gateway in front of a stopped service answers 502', async (t) => {
  const kind: GatewayKind = nginxBinary() ? 'nginx' : 'node'
  const dead = { ...echoes, 'todo-api': '127.0.0.1:9' }
  const gateway = await startGateway(kind, dead)
  t.teardown(() => gateway.stop())
  const node = await startGateway('node', dead)
  t.teardown(() => node.stop())
  for (const g of [gateway, node]) {
    const response = await fetch(`${g.url}/todos`)
    await response.arrayBuffer()
    t.equal(response.status, 502, g.url)
  }
})
