import { randomUUID } from 'node:crypto'
import { createServer } from 'node:net'
import t, { type Test } from 'tap'
import { SignJWT } from 'jose'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { build, type Built } from '../helpers/build.ts'

// Cross-cutting HTTP hardening of both token-service listeners, none of which needs BetterAuth:
// checklist R20, R28, R48, R51, R56, R57, R58, R59, R61. Requests that would reach BetterAuth
// carry tokens that fail before any key is needed, and BETTER_AUTH_JWKS_URL points at a closed port.

const closedPort = await new Promise<number>((resolve) => {
  const probe = createServer()
  probe.listen(0, '127.0.0.1', () => {
    const { port } = probe.address() as { port: number }
    probe.close(() => resolve(port))
  })
})
const env = { BETTER_AUTH_JWKS_URL: `http://127.0.0.1:${closedPort}/api/auth/jwks` }

const formType = { 'content-type': 'application/x-www-form-urlencoded' }
const jsonType = { 'content-type': 'application/json' }

/** A valid access token of this token-service, signed with its current key (SPEC §5). */
async function accessToken(app: Built, sub = 'user-1'): Promise<string> {
  const { kid, alg, privateKey } = app.keys.signingKey()
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({ client_id: 'cli', scope: 'todos:read todos:write', sid: 'AAAAAAAAAAAAAAAAAAAAAA', email: `${sub}@example.com`, roles: ['user'], jti: randomUUID() })
    .setProtectedHeader({ alg, kid, typ: 'at+jwt' })
    .setIssuer(app.config.ISSUER)
    .setAudience('todo-api')
    .setSubject(sub)
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .sign(privateKey)
}

interface Probe {
  name: string
  request: InjectOptions & { url: string }
  status: number
}

/** R61: a JSON body is labelled application/json; charset=utf-8; every answer, with or without a body, has nosniff. */
function expectLabelled(t: Test, response: LightMyRequestResponse, name: string) {
  t.equal(response.headers['x-content-type-options'], 'nosniff', `${name}: nosniff`)
  if (response.body.length > 0) {
    t.equal(response.headers['content-type'], 'application/json; charset=utf-8', `${name}: application/json; charset=utf-8`)
    t.doesNotThrow(() => JSON.parse(response.body), `${name}: the body is JSON`)
  }
}

async function probeAll(t: Test, app: FastifyInstance, probes: Probe[]) {
  for (const probe of probes) {
    const response = await app.inject(probe.request)
    t.equal(response.statusCode, probe.status, `${probe.name}: ${probe.status}`)
    expectLabelled(t, response, probe.name)
  }
}

t.test('every answer of the public listener, errors and 404s included, is JSON with nosniff (R61), and every OAuth answer is no-store (R28)', async (t) => {
  const app = await build(t, env, { store: 'memory' })
  const token = await accessToken(app)
  const oauth = (payload: string, headers: Record<string, string> = formType, url = '/oauth/token'): Probe['request'] => ({ method: 'POST', url, headers, payload })
  app.publicApp.get('/boom', async () => {
    throw new Error('internal detail that must not leak')
  })
  app.publicApp.post('/oauth/boom', async () => {
    throw new Error('internal detail that must not leak')
  })
  const probes: Probe[] = [
    { name: 'healthz', request: { url: '/healthz' }, status: 200 },
    { name: 'readyz', request: { url: '/readyz' }, status: 200 },
    { name: 'JWKS', request: { url: '/.well-known/jwks.json' }, status: 200 },
    { name: 'metadata', request: { url: '/.well-known/oauth-authorization-server' }, status: 200 },
    { name: 'unknown route', request: { url: '/nope' }, status: 404 },
    { name: 'unknown route with a body', request: { method: 'POST', url: '/nope', headers: jsonType, payload: '{}' }, status: 404 },
    { name: 'GET /oauth/token', request: { url: '/oauth/token' }, status: 404 },
    { name: 'unsupported grant', request: oauth('grant_type=password&client_id=cli'), status: 400 },
    { name: 'unknown client', request: oauth('grant_type=password&client_id=mallory'), status: 401 },
    { name: 'malformed subject token', request: oauth('grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&client_id=cli&subject_token=x&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Ajwt'), status: 400 },
    { name: 'web client without Origin', request: oauth('grant_type=refresh_token&client_id=web'), status: 403 },
    { name: 'XML body', request: oauth('<x/>', { 'content-type': 'application/xml' }), status: 415 },
    { name: 'body over the limit', request: oauth(`x=${'a'.repeat(20_000)}`), status: 413 },
    { name: 'malformed JSON', request: oauth('{"grant_type":', jsonType), status: 400 },
    { name: 'revoke without a token', request: oauth('client_id=cli', formType, '/oauth/revoke'), status: 400 },
    { name: 'revoke of an unknown token (empty 200)', request: oauth('client_id=cli&token=x', formType, '/oauth/revoke'), status: 200 },
    { name: 'sessions without a token', request: { url: '/sessions' }, status: 401 },
    { name: 'sessions with a bad token', request: { url: '/sessions', headers: { authorization: 'Bearer garbage' } }, status: 401 },
    { name: 'sessions with a malformed header', request: { url: '/sessions', headers: { authorization: 'Bearer a b' } }, status: 400 },
    { name: 'sessions with a good token', request: { url: '/sessions', headers: { authorization: `Bearer ${token}` } }, status: 200 },
    { name: 'unknown session', request: { method: 'DELETE', url: '/sessions/nope', headers: { authorization: `Bearer ${token}` } }, status: 404 },
    { name: 'an unexpected error', request: { url: '/boom' }, status: 500 },
    { name: 'an unexpected error on an OAuth path', request: { method: 'POST', url: '/oauth/boom' }, status: 500 },
  ]
  await probeAll(t, app.publicApp, probes)

  // The OAuth endpoints (not a 404 under /oauth/, nor the test's own /oauth/boom outside their scope).
  for (const probe of probes.filter((p) => p.request.url.startsWith('/oauth/') && p.status !== 404 && p.request.url !== '/oauth/boom')) {
    const response = await app.publicApp.inject(probe.request)
    t.equal(response.headers['cache-control'], 'no-store', `${probe.name}: Cache-Control no-store`)
    t.equal(response.headers.pragma, 'no-cache', `${probe.name}: Pragma no-cache`)
  }
})

t.test('every answer of the admin listener, probes and refusals included, is JSON with nosniff (R61)', async (t) => {
  const app = await build(t, { ...env, ADMIN_RATE_LIMIT_MAX: '1000' }, { store: 'memory' })
  const admin = { authorization: `Bearer ${app.config.ADMIN_TOKEN}` }
  await probeAll(t, app.adminApp!, [
    { name: 'healthz', request: { url: '/healthz' }, status: 200 },
    { name: 'readyz', request: { url: '/readyz' }, status: 200 },
    { name: 'keys without credentials', request: { url: '/admin/keys' }, status: 401 },
    { name: 'keys with a wrong token', request: { url: '/admin/keys', headers: { authorization: 'Bearer wrong' } }, status: 401 },
    { name: 'keys', request: { url: '/admin/keys', headers: admin }, status: 200 },
    { name: 'unknown admin route', request: { url: '/admin/nope', headers: admin }, status: 404 },
    { name: 'unknown kid', request: { method: 'POST', url: '/admin/keys/nope/revoke', headers: admin }, status: 404 },
    { name: 'bad force flag', request: { method: 'POST', url: '/admin/keys/rotate?force=maybe', headers: admin }, status: 400 },
    { name: 'body over the admin limit', request: { method: 'POST', url: '/admin/keys/rotate?force=true', headers: { ...admin, ...jsonType }, payload: JSON.stringify({ x: 'a'.repeat(5000) }) }, status: 413 },
    { name: 'XML body', request: { method: 'POST', url: '/admin/keys/rotate?force=true', headers: { ...admin, 'content-type': 'application/xml' }, payload: '<x/>' }, status: 415 },
  ])
  // Prometheus text is the one non-JSON answer (its exposition format); it is still labelled and nosniff.
  const metrics = await app.adminApp!.inject({ url: '/metrics', headers: admin })
  t.match(metrics.headers['content-type'], /^text\/plain; version=0\.0\.4/)
  t.equal(metrics.headers['x-content-type-options'], 'nosniff', 'metrics: nosniff')
})

t.test('429 answers are JSON with nosniff and Retry-After on both listeners (R61)', async (t) => {
  const app = await build(t, { ...env, RATE_LIMIT_MAX: '1', ADMIN_RATE_LIMIT_MAX: '1' }, { store: 'memory' })
  const request: InjectOptions = { method: 'POST', url: '/oauth/token', headers: formType, payload: 'grant_type=password&client_id=cli' }
  await app.publicApp.inject(request)
  const limited = await app.publicApp.inject(request)
  t.equal(limited.statusCode, 429)
  expectLabelled(t, limited, 'public 429')
  t.equal(limited.headers.pragma, 'no-cache', 'public 429: Pragma no-cache')
  await app.adminApp!.inject({ url: '/admin/keys' })
  const adminLimited = await app.adminApp!.inject({ url: '/admin/keys' })
  t.equal(adminLimited.statusCode, 429)
  expectLabelled(t, adminLimited, 'admin 429')
})

t.test('a 500 explains nothing on either listener (R20)', async (t) => {
  const app = await build(t, env, { store: 'memory' })
  const secret = 'internal detail that must not leak'
  app.publicApp.get('/boom', async () => {
    throw new Error(secret)
  })
  app.publicApp.post('/oauth/boom', async () => {
    throw new Error(secret)
  })
  app.adminApp!.get('/admin/boom', async () => {
    throw new Error(secret)
  })
  const answers = [
    await app.publicApp.inject({ url: '/boom' }),
    await app.publicApp.inject({ method: 'POST', url: '/oauth/boom' }),
    await app.adminApp!.inject({ url: '/admin/boom', headers: { authorization: `Bearer ${app.config.ADMIN_TOKEN}` } }),
  ]
  t.same(answers.map((r) => r.statusCode), [500, 500, 500])
  t.same(answers[0]!.json(), { code: 'INTERNAL', message: 'internal error' })
  t.same(answers[1]!.json(), { error: 'server_error', error_description: 'internal error' }, 'RFC 6749 shape on OAuth paths')
  t.same(answers[2]!.json(), { code: 'INTERNAL', message: 'internal error' })
  for (const answer of answers) t.notMatch(answer.body, /internal detail|stack|\.ts:\d|Error:/)
})

t.test('request bodies are bounded in size, type and shape (R57)', async (t) => {
  const app = await build(t, env, { store: 'memory' })
  const token = await accessToken(app)
  const post = (url: string, payload: string, headers: Record<string, string> = formType) => app.publicApp.inject({ method: 'POST', url, headers, payload })
  const cases: Array<[string, Promise<LightMyRequestResponse>, number, string | undefined]> = [
    ['token endpoint, 16 KiB + 1 form body', post('/oauth/token', `client_id=cli&x=${'a'.repeat(16 * 1024 - 12)}`), 413, 'invalid_request'],
    ['token endpoint, a large JSON body', post('/oauth/token', JSON.stringify({ x: 'a'.repeat(20_000) }), jsonType), 413, 'invalid_request'],
    ['revoke endpoint, a large body', post('/oauth/revoke', `client_id=cli&token=${'a'.repeat(20_000)}`), 413, 'invalid_request'],
    ['token endpoint, XML', post('/oauth/token', '<grant_type>password</grant_type>', { 'content-type': 'application/xml' }), 415, 'invalid_request'],
    ['revoke endpoint, multipart', post('/oauth/revoke', '--x\r\n\r\n--x--', { 'content-type': 'multipart/form-data; boundary=x' }), 415, 'invalid_request'],
    ['token endpoint, text/plain', post('/oauth/token', 'grant_type=password&client_id=cli', { 'content-type': 'text/plain' }), 400, 'invalid_request'],
    ['token endpoint, no content type', app.publicApp.inject({ method: 'POST', url: '/oauth/token', payload: 'grant_type=password&client_id=cli' }), 415, 'invalid_request'],
    ['33 parameters', post('/oauth/token', Array.from({ length: 33 }, (_, i) => `p${i}=1`).join('&')), 400, 'invalid_request'],
    ['a value of 8193 characters', post('/oauth/token', `grant_type=password&client_id=cli&scope=${'a'.repeat(8193)}`), 400, 'invalid_request'],
    ['a JSON number value', post('/oauth/token', '{"grant_type":"password","client_id":7}', jsonType), 400, 'invalid_request'],
    ['a JSON object value', post('/oauth/token', '{"grant_type":"password","client_id":{"id":"cli"}}', jsonType), 400, 'invalid_request'],
    ['a JSON null value', post('/oauth/token', '{"grant_type":"password","client_id":null}', jsonType), 400, 'invalid_request'],
    ['sessions API, an XML body', app.publicApp.inject({ method: 'DELETE', url: '/sessions', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/xml' }, payload: '<x/>' }), 415, undefined],
    ['sessions API, a large body', app.publicApp.inject({ method: 'DELETE', url: '/sessions', headers: { authorization: `Bearer ${token}`, ...jsonType }, payload: JSON.stringify({ x: 'a'.repeat(20_000) }) }), 413, undefined],
  ]
  for (const [name, pending, status, error] of cases) {
    const response = await pending
    t.equal(response.statusCode, status, `${name}: ${status}`)
    if (error) t.equal(response.json().error, error, `${name}: ${error}`)
    else t.type(response.json().code, 'string', `${name}: a stable code`)
  }
})

t.test('JSON and form bodies cannot pollute prototypes or smuggle a second value of a parameter (R56)', async (t) => {
  const app = await build(t, env, { store: 'memory' })
  const post = (payload: string, headers: Record<string, string> = jsonType) => app.publicApp.inject({ method: 'POST', url: '/oauth/token', headers, payload })
  const refused: Array<[string, string, Record<string, string>]> = [
    ['JSON __proto__', '{"grant_type":"password","client_id":"cli","__proto__":{"polluted":"yes"}}', jsonType],
    ['JSON constructor.prototype', '{"grant_type":"password","client_id":"cli","constructor":{"prototype":{"polluted":"yes"}}}', jsonType],
    ['JSON nested __proto__', '{"grant_type":"password","client_id":"cli","x":{"__proto__":{"polluted":"yes"}}}', jsonType],
    ['JSON client_id twice', '{"grant_type":"password","client_id":"cli","client_id":"mallory"}', jsonType],
    ['JSON client_id twice, the second escaped', '{"grant_type":"password","client_id":"cli","client\\u005fid":"mallory"}', jsonType],
    ['JSON grant_type twice', '{"grant_type":"refresh_token","client_id":"cli","grant_type":"password"}', jsonType],
    ['form client_id twice', 'grant_type=password&client_id=cli&client_id=mallory', formType],
    ['form client_id twice, the second percent-encoded', 'grant_type=password&client_id=cli&client%5Fid=mallory', formType],
  ]
  for (const [name, payload, headers] of refused) {
    const response = await post(payload, headers)
    t.equal(response.statusCode, 400, `${name}: 400`)
    t.equal(response.json().error, 'invalid_request', `${name}: invalid_request`)
  }
  // In a form, __proto__, constructor and client_id[] are just unknown parameter names (RFC 6749 has no
  // array syntax): ignored, nothing polluted, client_id stays the one value sent.
  const form = await post('__proto__=x&constructor=y&__proto__%5Bpolluted%5D=yes&client_id[]=mallory&grant_type=password&client_id=cli', formType)
  t.equal(form.statusCode, 400)
  t.equal(form.json().error, 'unsupported_grant_type', 'form: the request is read normally, as client cli')
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype is untouched')
  t.equal(Object.getPrototypeOf({}), Object.prototype)
})

t.test('the OAuth endpoints take POST only (R48)', async (t) => {
  const app = await build(t, env, { store: 'memory' })
  for (const url of ['/oauth/token', '/oauth/revoke']) {
    for (const method of ['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const) {
      const response = await app.publicApp.inject({ method, url: `${url}?grant_type=password&client_id=cli&token=x`, headers: formType, payload: method === 'GET' || method === 'HEAD' ? undefined : 'grant_type=password&client_id=cli&token=x' })
      t.equal(response.statusCode, 404, `${method} ${url}: no such route`)
      t.notOk(response.headers['set-cookie'], `${method} ${url}: no cookie`)
    }
  }
})

t.test('no CORS grant on any route, for any Origin (R51)', async (t) => {
  const app = await build(t, env, { store: 'memory' })
  const token = await accessToken(app)
  for (const origin of ['https://evil.example', 'http://localhost:8080', 'null']) {
    for (const url of ['/oauth/token', '/oauth/revoke', '/sessions', '/.well-known/jwks.json', '/.well-known/oauth-authorization-server']) {
      const preflight = await app.publicApp.inject({
        method: 'OPTIONS',
        url,
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' },
      })
      const actual = await app.publicApp.inject({ method: url.startsWith('/oauth') ? 'POST' : 'GET', url, headers: { origin, authorization: `Bearer ${token}`, ...formType }, payload: url.startsWith('/oauth') ? 'client_id=cli' : undefined })
      for (const [kind, response] of [['preflight', preflight], ['request', actual]] as const) {
        const granted = Object.keys(response.headers).filter((name) => name.startsWith('access-control-'))
        t.same(granted, [], `${kind} ${url} from ${origin}: no Access-Control-* header`)
      }
    }
  }
})

t.test('headers over the size limit are refused with 431 before any route runs, on both listeners (R59)', async (t) => {
  const app = await build(t, env, { store: 'memory' })
  await app.publicApp.listen({ host: '127.0.0.1', port: 0 })
  await app.adminApp!.listen({ host: '127.0.0.1', port: 0 })
  for (const [name, instance] of [['public', app.publicApp], ['admin', app.adminApp!]] as const) {
    const { port } = instance.server.address() as { port: number }
    const small = await fetch(`http://127.0.0.1:${port}/healthz`, { headers: { 'x-filler': 'a'.repeat(8_000) } })
    t.equal(small.status, 200, `${name}: 8 kB of headers pass`)
    for (const [header, value] of [['authorization', `Bearer ${'a'.repeat(20_000)}`], ['cookie', `__Secure-refresh_token=${'a'.repeat(20_000)}`], ['x-filler', 'a'.repeat(17_000)]] as const) {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`, { headers: { [header]: value } })
      t.equal(response.status, 431, `${name}: a ${value.length}-byte ${header} header → 431`)
      await response.body?.cancel()
    }
  }
})

t.test('TRUST_PROXY never means "trust everyone" (R58)', async (t) => {
  for (const value of ['true', '*', 'all', 'yes', '1']) {
    let trusted: unknown
    try {
      const app = await build(t, { ...env, TRUST_PROXY: value }, { store: 'memory' })
      app.publicApp.get('/whoami', async (request) => ({ ip: request.ip }))
      trusted = (await app.publicApp.inject({ url: '/whoami', remoteAddress: '198.51.100.7', headers: { 'x-forwarded-for': '203.0.113.9' } })).json().ip
    } catch (error) {
      t.match(String((error as Error).message), /TRUST_PROXY/, `TRUST_PROXY=${value}: refused, naming the variable`)
      continue
    }
    t.equal(trusted, '198.51.100.7', `TRUST_PROXY=${value}: the peer address, not the forwarded one`)
  }
})
