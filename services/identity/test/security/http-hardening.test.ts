import t, { type Test } from 'tap'
import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import { buildTestApp, sessionCookie, trustedOrigin } from '../helpers.ts'

// Cross-cutting HTTP hardening of identity (the BetterAuth host): checklist R51, R56, R57, R59, R61.
// Answers come from three places (Fastify's own handlers, our error handler, BetterAuth behind the
// catch-all route); each must be labelled and nosniff.

const { app } = await buildTestApp(t, { RATE_LIMIT_ENABLED: 'false' })
const json = { 'content-type': 'application/json', origin: trustedOrigin }
const password = 'correct horse battery staple'
const signUp = await app.inject({ method: 'POST', url: '/api/auth/sign-up/email', headers: json, payload: JSON.stringify({ name: 'Sec', email: 'sec@example.test', password }) })
const cookie = sessionCookie(signUp.headers['set-cookie'])

function expectLabelled(t: Test, response: LightMyRequestResponse, name: string) {
  t.equal(response.headers['x-content-type-options'], 'nosniff', `${name}: nosniff`)
  if (response.body.length === 0) return
  t.equal(response.headers['content-type'], 'application/json; charset=utf-8', `${name}: application/json; charset=utf-8`)
  t.doesNotThrow(() => JSON.parse(response.body), `${name}: the body is JSON`)
}

t.test('every answer, from Fastify, our handlers or BetterAuth, is JSON with nosniff (R61)', async (t) => {
  t.equal(signUp.statusCode, 200, 'sign-up (setup)')
  expectLabelled(t, signUp, 'sign-up')
  const probes: Array<[string, InjectOptions, number]> = [
    ['healthz', { url: '/healthz' }, 200],
    ['readyz', { url: '/readyz' }, 200],
    ['JWKS', { url: '/api/auth/jwks' }, 200],
    ['session', { url: '/api/auth/get-session', headers: { cookie } }, 200],
    ['token', { url: '/api/auth/token', headers: { cookie } }, 200],
    ['sign-in', { method: 'POST', url: '/api/auth/sign-in/email', headers: json, payload: JSON.stringify({ email: 'sec@example.test', password }) }, 200],
    ['sign-in with a wrong password', { method: 'POST', url: '/api/auth/sign-in/email', headers: json, payload: JSON.stringify({ email: 'sec@example.test', password: 'wrong horse battery staple' }) }, 401],
    ['token without a session', { url: '/api/auth/token' }, 401],
    ['sign-out from an untrusted Origin', { method: 'POST', url: '/api/auth/sign-out', headers: { ...json, origin: 'http://evil.example', cookie }, payload: '{}' }, 403],
    ['an unknown BetterAuth endpoint', { url: '/api/auth/nope' }, 404],
    ['an unknown route', { url: '/nope' }, 404],
    ['an unknown route with a body', { method: 'POST', url: '/nope', headers: json, payload: '{}' }, 404],
    ['a PUT on the auth routes', { method: 'PUT', url: '/api/auth/sign-in/email', headers: json, payload: '{}' }, 404],
    ['malformed JSON', { method: 'POST', url: '/api/auth/sign-in/email', headers: json, payload: '{"email":' }, 400],
    ['text/plain', { method: 'POST', url: '/api/auth/sign-in/email', headers: { ...json, 'content-type': 'text/plain' }, payload: '{}' }, 415],
    ['body over the limit', { method: 'POST', url: '/api/auth/sign-in/email', headers: json, payload: JSON.stringify({ email: 'x'.repeat(70_000) }) }, 413],
  ]
  for (const [name, request, status] of probes) {
    const response = await app.inject(request)
    t.equal(response.statusCode, status, `${name}: ${status}`)
    expectLabelled(t, response, name)
  }
})

t.test('prototype keys in bodies are refused before BetterAuth sees them (R56)', async (t) => {
  const bodies: Array<[string, string]> = [
    ['__proto__', `{"email":"sec@example.test","password":"${password}","__proto__":{"role":"admin"}}`],
    ['constructor.prototype', `{"email":"sec@example.test","password":"${password}","constructor":{"prototype":{"role":"admin"}}}`],
    ['nested __proto__', `{"email":"sec@example.test","password":"${password}","x":{"__proto__":{"role":"admin"}}}`],
  ]
  for (const [name, payload] of bodies) {
    for (const url of ['/api/auth/sign-in/email', '/api/auth/sign-up/email']) {
      const response = await app.inject({ method: 'POST', url, headers: json, payload })
      t.equal(response.statusCode, 400, `${url}, ${name}: 400`)
      t.type(response.json().code, 'string', `${url}, ${name}: a stable code`)
      t.notOk(response.headers['set-cookie'], `${url}, ${name}: no session`)
    }
  }
  t.equal(({} as Record<string, unknown>).role, undefined, 'Object.prototype is untouched')
})

t.test('form and multipart bodies, the other CORS simple-request types, are 415 (R50, R57)', async (t) => {
  for (const [type, payload] of [
    ['application/x-www-form-urlencoded', `email=sec%40example.test&password=${encodeURIComponent(password)}`],
    ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="email"\r\n\r\nsec@example.test\r\n--x--'],
    ['text/plain;charset=UTF-8', JSON.stringify({ email: 'sec@example.test', password })],
  ] as const) {
    const response = await app.inject({ method: 'POST', url: '/api/auth/sign-in/email', headers: { origin: trustedOrigin, 'content-type': type }, payload })
    t.equal(response.statusCode, 415, `${type}: 415`)
    t.notOk(response.headers['set-cookie'], `${type}: no session`)
  }
})

t.test('no CORS grant for any Origin, on preflights or requests (R51)', async (t) => {
  for (const origin of ['http://evil.example', trustedOrigin, 'null']) {
    for (const url of ['/api/auth/sign-in/email', '/api/auth/token', '/api/auth/jwks', '/healthz']) {
      const preflight = await app.inject({ method: 'OPTIONS', url, headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } })
      const actual = await app.inject({ url, headers: { origin, cookie } })
      for (const [kind, response] of [
        ['preflight', preflight],
        ['request', actual],
      ] as const) {
        t.same(
          Object.keys(response.headers).filter((name) => name.startsWith('access-control-')),
          [],
          `${kind} ${url} from ${origin}: no Access-Control-* header`,
        )
      }
    }
  }
})

t.test('headers over the size limit are refused with 431 before BetterAuth runs (R59)', async (t) => {
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as { port: number }
  t.equal((await fetch(`http://127.0.0.1:${port}/healthz`, { headers: { 'x-filler': 'a'.repeat(8_000) } })).status, 200, '8 kB of headers pass')
  for (const [header, value] of [
    ['cookie', `better-auth.session_token=${'a'.repeat(20_000)}`],
    ['authorization', `Bearer ${'a'.repeat(20_000)}`],
    ['x-filler', 'a'.repeat(17_000)],
  ] as const) {
    const response = await fetch(`http://127.0.0.1:${port}/api/auth/get-session`, { headers: { [header]: value } })
    t.equal(response.status, 431, `a ${value.length}-byte ${header} header → 431`)
    await response.body?.cancel()
  }
})
