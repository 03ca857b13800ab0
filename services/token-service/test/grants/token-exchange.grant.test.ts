import { createServer } from 'node:net'
import t from 'tap'
import { createRemoteJWKSet, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, SignJWT, base64url } from 'jose'
import { Compile } from 'typebox/compile'
import { AccessTokenClaims, AccessTokenHeader } from '@todo-auth/contracts'
import { startIdentity } from '@todo-auth/testkit'
import { sessionIdOf } from '../../src/tokens/refresh-token.codec.ts'
import { build, testClock } from '../helpers/build.ts'
import { exchange, exchangeGrant, form, identityEnv, jwtType, post } from './helpers.ts'

const identity = await startIdentity()
t.teardown(() => identity.close())
const env = identityEnv(identity)

t.test('a BetterAuth JWT is exchanged for an RFC 9068 access token that verifies against our published JWKS', async (t) => {
  const app = await build(t, env)
  const user = await identity.signUp()
  const response = await exchange(app.publicApp, user.jwt)
  t.equal(response.statusCode, 200)
  t.equal(response.headers['cache-control'], 'no-store')
  t.equal(response.headers.pragma, 'no-cache')
  t.match(response.headers['content-type'], /^application\/json; charset=utf-8/)
  const body = response.json()
  t.same(Object.keys(body).sort(), ['access_token', 'expires_in', 'issued_token_type', 'refresh_token', 'scope', 'token_type'])
  t.equal(body.issued_token_type, 'urn:ietf:params:oauth:token-type:access_token')
  t.equal(body.token_type, 'Bearer')
  t.equal(body.expires_in, 900)
  t.equal(body.scope, 'todos:read todos:write')
  t.match(body.refresh_token, /^[A-Za-z0-9_-]{64}$/)

  // Verify over real HTTP against the app's own GET /.well-known/jwks.json.
  await app.publicApp.listen({ host: '127.0.0.1', port: 0 })
  const address = app.publicApp.server.address() as { port: number }
  const jwks = createRemoteJWKSet(new URL(`http://127.0.0.1:${address.port}/.well-known/jwks.json`))
  const { payload, protectedHeader } = await jwtVerify(body.access_token, jwks, {
    issuer: 'http://localhost:8080',
    audience: 'todo-api',
    algorithms: ['ES256'],
    typ: 'at+jwt',
    requiredClaims: ['exp', 'iat', 'jti', 'sub', 'client_id', 'scope', 'sid'],
  })
  t.ok(Compile(AccessTokenHeader).Check(protectedHeader), 'header matches contracts AccessTokenHeader')
  t.equal(protectedHeader.typ, 'at+jwt')
  t.equal(protectedHeader.alg, 'ES256')
  t.ok(Compile(AccessTokenClaims).Check(payload), 'claims match contracts AccessTokenClaims')
  t.same(Object.keys(payload).sort(), ['aud', 'client_id', 'email', 'exp', 'iat', 'iss', 'jti', 'roles', 'scope', 'sid', 'sub'], 'no upstream claim copied')
  t.equal(payload.sub, user.userId)
  t.equal(payload.email, user.email)
  t.same(payload.roles, ['user'])
  t.equal(payload.client_id, 'cli')
  t.equal(payload.scope, 'todos:read todos:write')
  t.equal(payload.aud, 'todo-api')
  t.equal(payload.exp! - payload.iat!, 900)
  t.ok(Math.abs(payload.iat! - Date.now() / 1000) < 5)
  t.equal(payload.sid, sessionIdOf(body.refresh_token), 'sid is the refresh token’s session')

  const again = (await exchange(app.publicApp, user.jwt)).json()
  const second = decodeJwtPayload(again.access_token)
  t.not(second.jti, payload.jti, 'jti is unique')
  t.not(second.sid, payload.sid, 'every exchange starts a new session')
})

t.test('scope and audience/resource may be chosen within the client’s', async (t) => {
  const app = await build(t, env)
  const { jwt } = await identity.signUp()
  const narrowed = await exchange(app.publicApp, jwt, { scope: 'todos:read' })
  t.equal(narrowed.statusCode, 200)
  t.equal(narrowed.json().scope, 'todos:read')
  t.equal(decodeJwtPayload(narrowed.json().access_token).scope, 'todos:read')
  const both = await exchange(app.publicApp, jwt, { audience: 'todo-api', resource: 'todo-api', requested_token_type: 'urn:ietf:params:oauth:token-type:access_token' })
  t.equal(both.statusCode, 200)
  const json = await app.publicApp.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ grant_type: exchangeGrant, subject_token: jwt, subject_token_type: jwtType, client_id: 'cli', resource: 'todo-api' }),
  })
  t.equal(json.statusCode, 200, 'JSON bodies are accepted too')
})

t.test('bad requests get the RFC 6749 error of SPEC §3.3, never a 5xx or a stack trace', async (t) => {
  const clock = testClock()
  const app = await build(t, env, { deps: { clock } })
  const { jwt } = await identity.signUp()
  const base = { grant_type: exchangeGrant, subject_token: jwt, subject_token_type: jwtType, client_id: 'cli' }
  const { privateKey, publicKey } = await generateKeyPair('EdDSA')
  const strangerKid = 'not-betterauths'
  void (await exportJWK(publicKey))
  const claims = JSON.parse(new TextDecoder().decode(base64url.decode(jwt.split('.')[1]!))) as Record<string, unknown>
  const unknownKeyToken = await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid: strangerKid }).sign(privateKey)
  const [header, payload] = jwt.split('.')
  const noneToken = `${base64url.encode(JSON.stringify({ alg: 'none', kid: decodeProtectedHeader(jwt).kid }))}.${payload}.`
  const hsToken = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: decodeProtectedHeader(jwt).kid! }).sign(new TextEncoder().encode('a'.repeat(32)))
  void header
  const ours = (await exchange(app.publicApp, jwt)).json().access_token as string

  const cases: Array<{ name: string; body?: string; type?: string; url?: string; status: number; error: string }> = [
    { name: 'malformed form body', body: 'grant_type=%zz&client_id=cli', status: 400, error: 'invalid_request' },
    { name: 'percent-encoded bytes that are not UTF-8', body: 'grant_type=%FF%FE', status: 400, error: 'invalid_request' },
    { name: 'malformed JSON', body: '{"grant_type":', type: 'application/json', status: 400, error: 'invalid_request' },
    { name: 'JSON array body', body: '[]', type: 'application/json', status: 400, error: 'invalid_request' },
    { name: 'JSON non-string value', body: JSON.stringify({ ...base, scope: ['todos:read'] }), type: 'application/json', status: 400, error: 'invalid_request' },
    { name: 'JSON __proto__ member', body: `{"__proto__":{"x":1},"grant_type":"${exchangeGrant}"}`, type: 'application/json', status: 400, error: 'invalid_request' },
    { name: 'empty body', body: '', status: 400, error: 'invalid_request' },
    { name: 'text/plain body', body: form(base), type: 'text/plain', status: 400, error: 'invalid_request' },
    { name: 'XML body', body: '<x/>', type: 'application/xml', status: 415, error: 'invalid_request' },
    { name: 'repeated parameter', body: `${form(base)}&scope=todos:read&scope=todos:write`, status: 400, error: 'invalid_request' },
    { name: 'repeated client_id', body: `${form(base)}&client_id=cli`, status: 400, error: 'invalid_request' },
    { name: 'parameters in the query string', url: `/oauth/token?subject_token=${jwt}`, body: form(base), status: 400, error: 'invalid_request' },
    { name: 'missing grant_type', body: form({ ...base, grant_type: '' }), status: 400, error: 'invalid_request' },
    { name: 'unknown grant type', body: form({ ...base, grant_type: 'password' }), status: 400, error: 'unsupported_grant_type' },
    { name: 'authorization_code grant', body: form({ ...base, grant_type: 'authorization_code' }), status: 400, error: 'unsupported_grant_type' },
    { name: 'missing client_id', body: form({ ...base, client_id: '' }), status: 400, error: 'invalid_request' },
    { name: 'unknown client', body: form({ ...base, client_id: 'mallory' }), status: 401, error: 'invalid_client' },
    { name: 'missing subject_token', body: form({ ...base, subject_token: '' }), status: 400, error: 'invalid_request' },
    { name: 'missing subject_token_type', body: form({ ...base, subject_token_type: '' }), status: 400, error: 'invalid_request' },
    { name: 'wrong subject_token_type', body: form({ ...base, subject_token_type: 'urn:ietf:params:oauth:token-type:id_token' }), status: 400, error: 'invalid_request' },
    { name: 'requested_token_type refresh_token', body: form({ ...base, requested_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' }), status: 400, error: 'invalid_request' },
    { name: 'actor_token', body: form({ ...base, actor_token: jwt, actor_token_type: jwtType }), status: 400, error: 'invalid_request' },
    { name: 'garbled subject token', body: form({ ...base, subject_token: 'garbage.garbage' }), status: 400, error: 'invalid_grant' },
    { name: 'subject token with its signature cut', body: form({ ...base, subject_token: jwt.slice(0, -5) }), status: 400, error: 'invalid_grant' },
    { name: 'subject token signed by an unknown key', body: form({ ...base, subject_token: unknownKeyToken }), status: 400, error: 'invalid_grant' },
    { name: 'subject token with alg none', body: form({ ...base, subject_token: noneToken }), status: 400, error: 'invalid_grant' },
    { name: 'subject token with HS256', body: form({ ...base, subject_token: hsToken }), status: 400, error: 'invalid_grant' },
    { name: 'our own access token as subject token', body: form({ ...base, subject_token: ours }), status: 400, error: 'invalid_grant' },
    { name: 'unknown audience', body: form({ ...base, audience: 'payments-api' }), status: 400, error: 'invalid_target' },
    { name: 'unknown resource', body: form({ ...base, resource: 'https://evil.example/' }), status: 400, error: 'invalid_target' },
    { name: 'audience and resource differ', body: form({ ...base, audience: 'todo-api', resource: 'other' }), status: 400, error: 'invalid_target' },
    { name: 'scope outside the client’s', body: form({ ...base, scope: 'todos:read admin' }), status: 400, error: 'invalid_scope' },
    { name: 'malformed scope', body: form({ ...base, scope: 'todos:read  todos:write' }), status: 400, error: 'invalid_scope' },
  ]
  for (const c of cases) {
    const response = await app.publicApp.inject({
      method: 'POST',
      url: c.url ?? '/oauth/token',
      headers: { 'content-type': c.type ?? 'application/x-www-form-urlencoded' },
      payload: c.body ?? '',
    })
    t.equal(response.statusCode, c.status, `${c.name}: status`)
    const body = response.json()
    t.equal(body.error, c.error, `${c.name}: error code`)
    t.type(body.error_description, 'string', `${c.name}: description`)
    t.same(Object.keys(body).sort(), ['error', 'error_description'], `${c.name}: nothing else in the body`)
    t.equal(response.headers['cache-control'], 'no-store', `${c.name}: no-store`)
    t.notMatch(response.body, /at .*\.ts:\d+|stack|Error:/, `${c.name}: no stack trace`)
    t.notOk(response.body.includes(jwt), `${c.name}: the token is not echoed`)
  }

  const large = await app.publicApp.inject({ method: 'POST', url: '/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `x=${'a'.repeat(20_000)}` })
  t.equal(large.statusCode, 413)
  t.equal(large.json().error, 'invalid_request')
  const get = await app.publicApp.inject({ method: 'GET', url: '/oauth/token' })
  t.equal(get.statusCode, 404, 'the token endpoint is POST-only')

  // Expired: BetterAuth JWTs live 15 minutes; our clock moves past that plus the tolerance.
  clock.advance(16 * 60_000)
  const expired = await post(app.publicApp, '/oauth/token', base)
  t.equal(expired.statusCode, 400)
  t.equal(expired.json().error, 'invalid_grant', 'expired subject token')
})

t.test('a BetterAuth JWT with another issuer or audience than configured is refused', async (t) => {
  const { jwt } = await identity.signUp()
  const wrongIss = await build(t, { ...env, BETTER_AUTH_ISSUER: `${identity.issuer}/` })
  const r1 = await exchange(wrongIss.publicApp, jwt)
  t.equal(r1.statusCode, 400)
  t.equal(r1.json().error, 'invalid_grant', 'wrong iss')
  const wrongAud = await build(t, { ...env, BETTER_AUTH_AUDIENCE: 'someone-else' })
  const r2 = await exchange(wrongAud.publicApp, jwt)
  t.equal(r2.statusCode, 400)
  t.equal(r2.json().error, 'invalid_grant', 'wrong aud')
})

t.test('BetterAuth down with nothing cached answers temporarily_unavailable quickly', async (t) => {
  const closedPort = await new Promise<number>((resolve) => {
    const probe = createServer()
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number }
      probe.close(() => resolve(port))
    })
  })
  const app = await build(t, { ...env, BETTER_AUTH_JWKS_URL: `http://127.0.0.1:${closedPort}/api/auth/jwks` })
  const { jwt } = await identity.signUp()
  const started = performance.now()
  const response = await exchange(app.publicApp, jwt)
  const elapsed = performance.now() - started
  t.equal(response.statusCode, 503)
  t.equal(response.json().error, 'temporarily_unavailable')
  t.ok(response.headers['retry-after'], 'Retry-After')
  t.ok(elapsed < 1000, `answered in ${Math.round(elapsed)} ms`)
})

function decodeJwtPayload(token: string): Record<string, unknown> {
  return JSON.parse(new TextDecoder().decode(base64url.decode(token.split('.')[1]!))) as Record<string, unknown>
}
