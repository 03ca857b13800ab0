import t from 'tap'
import { Compile } from 'typebox/compile'
import { Problem, TodoApiErrorStatus } from '@todo-auth/contracts'
import { BearerAuthErrorCode } from '@todo-auth/token-verifier'
import { build } from './helpers/build.ts'

const checkProblem = Compile(Problem)

t.test('the OpenAPI document lists every route with its methods', async (t) => {
  const built = await build(t)
  // printRoutes draws a tree: each level indents by 4 characters and shows its own path segment.
  const routes: Array<{ method: string; url: string }> = []
  const stack: string[] = []
  for (const line of built.app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^((?:[│ ] {3})*)[├└]── (\S+)(?: \(([^)]+)\))?$/.exec(line)
    if (!match) continue
    const depth = match[1]!.length / 4
    stack.length = depth
    const url = `${stack.join('')}${match[2]}`
    stack.push(match[2]!)
    for (const method of (match[3] ?? '').split(', ')) if (method && method !== 'HEAD') routes.push({ method, url })
  }
  t.ok(routes.length >= 9, `found ${routes.length} routes`)
  const res = await built.app.inject({ url: '/openapi.json' })
  t.equal(res.statusCode, 200)
  const doc = res.json() as { openapi: string; paths: Record<string, Record<string, { security?: unknown[] }>> }
  t.equal(doc.openapi, '3.1.0')
  for (const { method, url } of routes) {
    const path = url.replace(/:(\w+)/g, '{$1}')
    t.ok(doc.paths[path]?.[method.toLowerCase()], `${method} ${path} is documented`)
  }
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const method of Object.keys(operations)) {
      t.ok(
        routes.some((r) => r.url.replace(/:(\w+)/g, '{$1}') === path && r.method.toLowerCase() === method),
        `${method} ${path} exists`,
      )
      if (path.startsWith('/todos')) t.same(operations[method]!.security, [{ bearerAuth: [] }], `${method} ${path} requires a bearer token`)
    }
  }
  t.same(
    Object.keys(doc.paths)
      .filter((p) => p.startsWith('/todos'))
      .sort(),
    ['/todos', '/todos/{id}'],
  )
  t.same(Object.keys(doc.paths['/todos']!).sort(), ['delete', 'get', 'post'])
  t.same(Object.keys(doc.paths['/todos/{id}']!).sort(), ['delete', 'get', 'patch'])
})

t.test('healthz and readyz answer, and readyz is 503 when the database is gone', async (t) => {
  const built = await build(t)
  const health = await built.app.inject({ url: '/healthz' })
  t.equal(health.statusCode, 200)
  t.same(health.json(), { status: 'ok' })
  const ready = await built.app.inject({ url: '/readyz' })
  t.equal(ready.statusCode, 200)
  t.equal(ready.json().checks.database, 'ok')
  await built.db.destroy()
  const notReady = await built.app.inject({ url: '/readyz' })
  t.equal(notReady.statusCode, 503)
  t.equal(notReady.json().code, 'ERR_DATABASE_UNAVAILABLE')
})

t.test('metrics count requests and durations in Prometheus text', async (t) => {
  const built = await build(t)
  await built.app.inject({ url: '/todos', headers: await built.auth() })
  await built.app.inject({ url: '/todos' })
  const res = await built.app.inject({ url: '/metrics' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/)
  t.match(res.body, /^http_requests_total\{method="GET",route="\/todos",status="200"\} 1$/m)
  t.match(res.body, /^http_requests_total\{method="GET",route="\/todos",status="401"\} 1$/m)
  t.match(res.body, /^http_request_duration_seconds_count\{method="GET",route="\/todos"\} 2$/m)
  t.match(res.body, /^http_request_duration_seconds_bucket\{le="\+Inf",method="GET",route="\/todos"\} 2$/m)
  t.match(res.body, /^todo_api_jwks_loaded 1$/m)
  t.match(res.body, /^todo_api_jwks_keys 1$/m)
})

t.test('url and Location ignore X-Forwarded-* from an untrusted peer', async (t) => {
  const built = await build(t) // TRUST_PROXY empty: nobody is trusted
  const res = await built.app.inject({
    method: 'POST',
    url: '/todos',
    headers: { ...(await built.auth()), 'content-type': 'application/json', host: 'api.local:3003', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' },
    payload: { title: 'x' },
  })
  t.equal(res.statusCode, 201)
  t.match(res.json().url, /^http:\/\/api\.local:3003\/todos\/[0-9a-f-]{36}$/)
  t.equal(res.headers.location, res.json().url)
})

t.test('url and Location follow X-Forwarded-* from a trusted proxy', async (t) => {
  const built = await build(t, { TRUST_PROXY: '127.0.0.1,::1' })
  const res = await built.app.inject({
    method: 'POST',
    url: '/todos',
    headers: { ...(await built.auth()), 'content-type': 'application/json', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'localhost:8080' },
    payload: { title: 'x' },
  })
  t.match(res.json().url, /^https:\/\/localhost:8080\/todos\//)
})

t.test('a Host or forwarded proto that is not a plain host is refused, not reflected', async (t) => {
  const built = await build(t, { TRUST_PROXY: '127.0.0.1' })
  const headers = await built.auth()
  for (const extra of [{ host: 'evil.example/<script>' }, { host: 'a b' }, { 'x-forwarded-proto': 'javascript' }, { 'x-forwarded-host': 'x"y' }]) {
    const res = await built.app.inject({ url: '/todos', headers: { ...headers, ...extra } })
    t.equal(res.statusCode, 400, JSON.stringify(extra))
    t.equal(res.json().code, 'ERR_INVALID_HOST')
  }
})

t.test('unknown routes are problem+json 404s and every answer has nosniff', async (t) => {
  const built = await build(t)
  const res = await built.app.inject({ url: '/nope' })
  t.equal(res.statusCode, 404)
  t.equal(res.json().code, 'ERR_ROUTE_NOT_FOUND')
  t.ok(checkProblem.Check(res.json()))
  for (const url of ['/nope', '/healthz', '/todos', '/openapi.json', '/metrics']) {
    t.equal((await built.app.inject({ url })).headers['x-content-type-options'], 'nosniff', url)
  }
})

t.test('an unexpected error is a generic 500 that explains nothing, logged with its request id', async (t) => {
  const built = await build(t)
  built.app.get('/boom', async () => {
    throw new Error('secret internal detail')
  })
  const res = await built.app.inject({ url: '/boom' })
  t.equal(res.statusCode, 500)
  t.equal(res.json().code, 'ERR_INTERNAL')
  t.notMatch(res.body, /secret internal detail/)
  t.match(built.logs.join(''), /secret internal detail/)
  // The id the caller is given finds the line that explains the 500.
  const id = res.headers['x-request-id']
  t.ok(
    built.logs.some((line) => line.includes('secret internal detail') && line.includes(`"request_id":"${id}"`)),
    'the error line carries the X-Request-Id returned',
  )
})

t.test('tokens never reach the logs, not even refused ones or ones in the URL', async (t) => {
  const built = await build(t)
  const good = await built.token()
  const expired = await built.token({ claims: { exp: 1, iat: 0 } })
  await built.app.inject({ url: '/todos', headers: { authorization: `Bearer ${good}` } })
  await built.app.inject({ url: '/todos', headers: { authorization: `Bearer ${expired}` } })
  await built.app.inject({ url: `/todos?access_token=${good}` })
  const logs = built.logs.join('')
  t.match(logs, /"event":"auth_failed"/)
  for (const token of [good, expired]) {
    t.notOk(logs.includes(token), 'the token is not logged')
    t.notOk(logs.includes(token.split('.')[2]!), 'nor its signature')
  }
  t.match(logs, /"url":"\/todos\?\[redacted\]"/, 'the query string is redacted as a whole')
})

t.test('every problem code of the bearer-auth plugin is in the contracts catalog', async (t) => {
  for (const code of Object.values(BearerAuthErrorCode)) t.ok(Object.hasOwn(TodoApiErrorStatus, code), code)
})
