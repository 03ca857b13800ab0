// Both gateways (nginx with the compose config, and the Node development one)
// in front of the real identity, token-service and todo-api, spawned as
// processes with embedded databases and an isolated Redis prefix.
import { randomBytes } from 'node:crypto'
import { resolve } from 'node:path'
import t from 'tap'
import { createTestRedisPrefix, spawnService, spawnTokenService, startIdentity } from '@todo-auth/testkit'
import { loadRouteTable } from '../infra/gateway/routes.ts'
import { gatewayKinds, hostPort, nginxBinary, repoRoot, startGateway, type GatewayKind } from './helpers/gateways.ts'

const origin = 'http://localhost:8080' // a trusted browser origin of identity and of the web client
const table = loadRouteTable()
const frontend = 'https://app.example.test' // a frontend on another origin, in both services' CORS_ORIGINS

const redis = createTestRedisPrefix('t:gw')
t.teardown(() => redis.cleanup())

const identity = await startIdentity({ embedded: true, env: { TRUST_PROXY: '127.0.0.1' } })
t.teardown(() => identity.close())
const tokenService = await spawnTokenService({ redisPrefix: redis.prefix, identity, admin: true, env: { TRUST_PROXY: '127.0.0.1', CORS_ORIGINS: frontend } })
const adminToken = tokenService.adminToken!
t.teardown(() => tokenService.stop())
const todoApi = await spawnService({
  entry: resolve(repoRoot, 'services/todo-api/src/server.ts'),
  env: {
    HOST: '127.0.0.1',
    PORT: '0',
    DATABASE_URL: undefined,
    PGLITE_DATA_DIR: undefined,
    TOKEN_SERVICE_JWKS_URL: tokenService.jwksUrl,
    TRUST_PROXY: '127.0.0.1',
    CORS_ORIGINS: frontend,
    LOG_LEVEL: 'info',
  },
})
t.teardown(() => todoApi.stop())

const upstreams = { identity: hostPort(identity.url), 'token-service': hostPort(tokenService.url), 'todo-api': hostPort(todoApi.url) }

function gatewayTest(kind: GatewayKind) {
  const skip = kind === 'nginx' && !nginxBinary() ? 'nginx is not installed here (apt-get install nginx; CI installs it in .ci/run)' : false
  t.test(`the ${kind} gateway in front of the real services`, { skip }, async (t) => {
    const gateway = await startGateway(kind, upstreams)
    t.teardown(() => gateway.stop())
    const base = gateway.url

    let cookie = ''
    t.test('/api/auth/ reaches identity, which sees the client address the gateway set', async (t) => {
      const jwks = (await (await fetch(`${base}/api/auth/jwks`)).json()) as { keys: { alg?: string; crv?: string }[] }
      t.equal(jwks.keys[0]?.crv, 'Ed25519', "BetterAuth's JWKS")
      const email = `gw-${randomBytes(4).toString('hex')}@example.test`
      const signUp = await fetch(`${base}/api/auth/sign-up/email`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin, 'x-forwarded-for': '6.6.6.6' },
        body: JSON.stringify({ name: 'Gateway', email, password: randomBytes(12).toString('base64url') }),
      })
      t.equal(signUp.status, 200)
      cookie = signUp.headers
        .getSetCookie()
        .find((c) => c.includes('session_token='))!
        .split(';')[0]!
      const session = (await (await fetch(`${base}/api/auth/get-session`, { headers: { cookie } })).json()) as { session: { ipAddress?: string } }
      t.equal(session.session.ipAddress, '127.0.0.1', 'the forged X-Forwarded-For was replaced by the real client address')
    })

    let accessToken = ''
    t.test('/.well-known/, /oauth/ and /sessions reach token-service public', async (t) => {
      const metadata = (await (await fetch(`${base}/.well-known/oauth-authorization-server`)).json()) as { issuer: string; token_endpoint: string }
      t.equal(metadata.issuer, 'http://localhost:8080')
      const jwks = (await (await fetch(`${base}/.well-known/jwks.json`)).json()) as { keys: { alg: string }[] }
      t.ok(
        jwks.keys.some((k) => k.alg === 'ES256'),
        "token-service's JWKS",
      )
      const jwt = ((await (await fetch(`${base}/api/auth/token`, { headers: { cookie } })).json()) as { token: string }).token
      const exchange = await fetch(`${base}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: jwt, subject_token_type: 'urn:ietf:params:oauth:token-type:jwt', client_id: 'cli' }),
      })
      t.equal(exchange.status, 200)
      const body = (await exchange.json()) as { access_token: string; refresh_token: string }
      t.ok(body.refresh_token)
      accessToken = body.access_token
      const sessions = await fetch(`${base}/sessions`, { headers: { authorization: `Bearer ${accessToken}` } })
      t.equal(sessions.status, 200)
      t.equal(((await sessions.json()) as unknown[]).length, 1)
    })

    t.test('/todos reaches todo-api, which builds URLs from the X-Forwarded-Host/-Proto of the gateway', async (t) => {
      const created = await fetch(`${base}/todos`, {
        method: 'POST',
        headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' },
        body: JSON.stringify({ title: 'through the gateway' }),
      })
      t.equal(created.status, 201)
      const todo = (await created.json()) as { id: string; url: string }
      t.equal(todo.url, `${base}/todos/${todo.id}`, 'the URL the client used, not the forged one')
      const list = (await (await fetch(`${base}/todos`, { headers: { authorization: `Bearer ${accessToken}` } })).json()) as { id: string }[]
      t.same(
        list.map((x) => x.id),
        [todo.id],
      )
    })

    t.test('CORS preflights pass the gateway to each service and come back with its answer', async (t) => {
      for (const [path, method, methods] of [
        ['/oauth/token', 'POST', 'POST'],
        ['/sessions', 'GET', 'GET, DELETE'],
        ['/todos', 'POST', 'GET, POST, DELETE'],
        ['/todos/abc', 'PATCH', 'GET, PATCH, DELETE'],
      ] as const) {
        const res = await fetch(`${base}${path}`, { method: 'OPTIONS', headers: { origin: frontend, 'access-control-request-method': method, 'access-control-request-headers': 'authorization,content-type' } })
        await res.arrayBuffer()
        t.equal(res.status, 204, `OPTIONS ${path}`)
        t.equal(res.headers.get('access-control-allow-origin'), frontend, `${path}: Allow-Origin`)
        t.equal(res.headers.get('access-control-allow-methods'), methods, `${path}: the route's methods`)
        t.equal(res.headers.get('access-control-allow-headers'), 'Authorization, Content-Type')
        t.match(res.headers.get('vary'), /Origin/)
      }
      const stranger = await fetch(`${base}/todos`, { method: 'OPTIONS', headers: { origin: 'https://evil.example.test', 'access-control-request-method': 'GET' } })
      await stranger.arrayBuffer()
      t.equal(stranger.headers.get('access-control-allow-origin'), null, 'an origin not listed gets nothing, through the gateway too')
    })

    t.test("token-service's admin listener is never reachable through the gateway", async (t) => {
      const direct = await fetch(`${tokenService.urls.admin}/admin/keys`, { headers: { authorization: `Bearer ${adminToken}` } })
      t.equal(direct.status, 200, 'the admin API answers on its own listener')
      await direct.arrayBuffer()
      for (const path of ['/admin/keys', '/admin/keys/rotate', '/metrics', '/healthz', '/readyz']) {
        const response = await fetch(`${base}${path}`, { method: path.endsWith('rotate') ? 'POST' : 'GET', headers: { authorization: `Bearer ${adminToken}` } })
        const text = await response.text()
        t.equal(response.status, 404, `${path} is not routed`)
        t.notMatch(text, /"kid"|"state"|# HELP/, `${path} gives nothing away`)
      }
    })

    t.test(`a body over ${table.bodyLimitBytes} bytes is refused by the gateway and a smaller one reaches the service`, async (t) => {
      const tooLarge = await fetch(`${base}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `grant_type=refresh_token&client_id=cli&refresh_token=${'a'.repeat(table.bodyLimitBytes)}`,
      })
      await tooLarge.arrayBuffer()
      t.equal(tooLarge.status, 413)
      const underLimit = await fetch(`${base}/todos`, {
        method: 'POST',
        headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'x'.repeat(table.bodyLimitBytes - 100) }),
      })
      t.equal(underLimit.status, 400, "todo-api's own validation answers (title too long)")
      t.match(underLimit.headers.get('content-type'), /application\/problem\+json/)
      await underLimit.arrayBuffer()
    })
  })
}

for (const kind of gatewayKinds) gatewayTest(kind)
