// The route table (infra/gateway/routes.json) as both gateways serve it: nginx
// with the config compose uses (default.conf.template) and the Node development
// gateway. Upstreams here are echo servers that report what reached them, so
// every route, header and body byte can be checked; test/gateway-services.test.ts
// puts the same gateways in front of the real services.
import { readdirSync, readFileSync } from 'node:fs'
import { extname } from 'node:path'
import t from 'tap'
import { routedPaths, startEchoUpstreams, type Echo } from './helpers/echo-upstreams.ts'
import { gatewayKinds, nginxBinary, startGateway, type GatewayKind } from './helpers/gateways.ts'

/** The types the demo page's files must be served with (both gateways list them: dev-gateway.ts, default.conf.template). */
const webTypes: Readonly<Record<string, string>> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' }

const { hits, echoes } = await startEchoUpstreams(t)

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
