import t from 'tap'
import type { LightMyRequestResponse } from 'fastify'
import { build } from '../helpers/build.ts'
import { accessToken, env, formType, jsonType } from './http-hardening-fixture.ts'

// Cross-cutting HTTP hardening of both token-service listeners: what requests may carry
// (checklist R48, R51, R56, R57, R58, R59). What every answer looks like: http-hardening.test.ts.

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
      const response = await app.publicApp.inject({
        method,
        url: `${url}?grant_type=password&client_id=cli&token=x`,
        headers: formType,
        payload: method === 'GET' || method === 'HEAD' ? undefined : 'grant_type=password&client_id=cli&token=x',
      })
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
      for (const [kind, response] of [
        ['preflight', preflight],
        ['request', actual],
      ] as const) {
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
  for (const [name, instance] of [
    ['public', app.publicApp],
    ['admin', app.adminApp!],
  ] as const) {
    const { port } = instance.server.address() as { port: number }
    const small = await fetch(`http://127.0.0.1:${port}/healthz`, { headers: { 'x-filler': 'a'.repeat(8_000) } })
    t.equal(small.status, 200, `${name}: 8 kB of headers pass`)
    for (const [header, value] of [
      ['authorization', `Bearer ${'a'.repeat(20_000)}`],
      ['cookie', `__Secure-refresh_token=${'a'.repeat(20_000)}`],
      ['x-filler', 'a'.repeat(17_000)],
    ] as const) {
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
