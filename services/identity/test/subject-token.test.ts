import t from 'tap'
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose'
import { startIdentity } from '@todo-auth/testkit'
import { trustedOrigin } from './helpers.ts'

// Non-default values, so the test proves they come from the configuration.
const issuer = 'https://id.example.test/api/auth'
const audience = 'test-audience'
const ttl = 120

const identity = await startIdentity({
  env: {
    JWT_ISSUER: issuer,
    JWT_AUDIENCE: audience,
    JWT_ALG: 'ES256',
    JWT_TTL: String(ttl),
    // BetterAuth skips its Origin check under NODE_ENV=test (or TEST=true) unless told
    // otherwise: running under them proves identity pins the check on.
    NODE_ENV: 'test',
    TEST: 'true',
  },
})
t.teardown(() => identity.close())
const { url } = identity

const postJson = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: trustedOrigin, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })

const getToken = async (cookie: string) => {
  const response = await fetch(`${url}/api/auth/token`, { headers: { cookie } })
  return { status: response.status, body: (await response.json()) as { token: string } }
}

t.test('the helper reports the configured issuer, audience and algorithm', async (t) => {
  t.equal(identity.issuer, issuer)
  t.equal(identity.audience, audience)
  t.same(identity.algorithms, ['ES256'])
  t.equal(identity.jwksUrl, `${url}/api/auth/jwks`)
})

t.test('ten concurrent first token requests leave exactly one key in the JWKS', async (t) => {
  // Must run before anything else signs, and sign up without the helper (it fetches a JWT).
  const signUp = await postJson('/api/auth/sign-up/email', { name: 'First', email: `first-${Date.now()}@example.test`, password: 'a long enough password' })
  t.equal(signUp.status, 200)
  const cookie = signUp.headers
    .getSetCookie()
    .find((c) => c.startsWith('better-auth.session_token='))!
    .split(';')[0]!
  const results = await Promise.all(Array.from({ length: 10 }, () => getToken(cookie)))
  t.same(
    results.map((r) => r.status),
    Array(10).fill(200),
  )
  const kids = new Set(results.map((r) => decodeProtectedHeader(r.body.token).kid))
  t.equal(kids.size, 1, 'every JWT names the same key')
  const jwks = (await (await fetch(identity.jwksUrl)).json()) as { keys: { kid: string; alg: string; d?: string }[] }
  t.equal(jwks.keys.length, 1)
  t.equal(jwks.keys[0]!.kid, [...kids][0])
  t.equal(jwks.keys[0]!.alg, 'ES256')
  t.notOk('d' in jwks.keys[0]!, 'no private member is published')
})

t.test('sign up, sign in, get a JWT that verifies against the JWKS with exactly the configured claims', async (t) => {
  const email = `flow-${Date.now()}@example.test`
  const password = 'a long enough password'
  const signUp = await postJson('/api/auth/sign-up/email', { name: 'Flow', email, password })
  t.equal(signUp.status, 200)
  const userId = ((await signUp.json()) as { user: { id: string } }).user.id

  const signIn = await postJson('/api/auth/sign-in/email', { email, password })
  t.equal(signIn.status, 200)
  const cookie = signIn.headers
    .getSetCookie()
    .find((c) => c.startsWith('better-auth.session_token='))
    ?.split(';')[0]
  t.ok(cookie, 'sign-in sets the session cookie')

  const token = await fetch(`${url}/api/auth/token`, { headers: { cookie: cookie! } })
  t.equal(token.status, 200)
  t.equal(token.headers.get('cache-control'), 'no-store')
  const jwt = ((await token.json()) as { token: string }).token

  const { payload, protectedHeader } = await jwtVerify(jwt, createRemoteJWKSet(new URL(identity.jwksUrl)), {
    issuer,
    audience,
    algorithms: ['ES256'],
    requiredClaims: ['sub', 'iat', 'exp'],
  })
  t.equal(protectedHeader.alg, 'ES256')
  t.equal(payload.iss, issuer)
  t.equal(payload.aud, audience)
  t.equal(payload.sub, userId)
  t.equal(payload.email, email)
  t.equal(payload.role, 'user')
  t.equal(payload.exp! - payload.iat!, ttl, 'lifetime is JWT_TTL')
  t.same(Object.keys(payload).sort(), ['aud', 'email', 'exp', 'iat', 'iss', 'role', 'sub'], 'nothing of the user row beyond email and role')
  t.notMatch(JSON.stringify(payload), /password|emailVerified|createdAt|banned|name/)
})

t.test('a role sent at sign-up is refused: the role is not client-settable', async (t) => {
  const email = `m-${Date.now()}@example.test`
  const password = 'a long enough password'
  const response = await postJson('/api/auth/sign-up/email', { name: 'Mallory', email, password, role: 'admin' })
  t.equal(response.status, 400)
  t.equal((await postJson('/api/auth/sign-in/email', { email, password })).status, 401, 'no user was created')
})

t.test('a cookie-carrying POST from an untrusted Origin is refused, even under NODE_ENV=test', async (t) => {
  const user = await identity.signUp()
  const evil = await postJson('/api/auth/sign-out', {}, { cookie: user.cookie, origin: 'http://evil.example' })
  t.equal(evil.status, 403)
  t.equal(((await evil.json()) as { code: string }).code, 'INVALID_ORIGIN')

  const noOrigin = await fetch(`${url}/api/auth/sign-out`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: user.cookie }, body: '{}' })
  t.equal(noOrigin.status, 403, 'a cookie POST without Origin is refused too')

  t.equal((await getToken(user.cookie)).status, 200, 'the refused requests did not end the session')

  const signOut = await postJson('/api/auth/sign-out', {}, { cookie: user.cookie })
  t.equal(signOut.status, 200, 'the same request from the trusted origin passes')
  const cleared = signOut.headers.getSetCookie()
  t.ok(cleared.length >= 2, `every Set-Cookie header is passed on (${cleared.length})`)
  t.ok(cleared.some((c) => c.startsWith('better-auth.session_token=;')))
  t.equal((await getToken(user.cookie)).status, 401, 'the session is gone')
})

t.test('a sign-up from an untrusted Origin is refused', async (t) => {
  const response = await postJson('/api/auth/sign-up/email', { name: 'X', email: `x-${Date.now()}@example.test`, password: 'a long enough password' }, { origin: 'http://evil.example' })
  t.equal(response.status, 403)
})

t.test('bad sign-up bodies get a 4xx, never a 5xx', async (t) => {
  const cases: { name: string; body: string; contentType?: string; status: number }[] = [
    { name: 'truncated JSON', body: '{"email":', status: 400 },
    { name: 'empty JSON body', body: '', status: 400 },
    { name: 'prototype pollution', body: '{"__proto__":{"admin":true},"email":"p@example.test"}', status: 400 },
    { name: 'JSON null', body: 'null', status: 400 },
    { name: 'JSON array', body: '[]', status: 400 },
    { name: 'JSON string', body: '"x"', status: 400 },
    { name: 'wrong types', body: '{"name":1,"email":2,"password":3}', status: 400 },
    { name: 'invalid email', body: '{"name":"n","email":"not-an-email","password":"a long enough password"}', status: 400 },
    { name: 'password too short', body: '{"name":"n","email":"s@example.test","password":"short"}', status: 400 },
    { name: 'password too long', body: JSON.stringify({ name: 'n', email: 'l@example.test', password: 'x'.repeat(200) }), status: 400 },
    { name: 'text/plain (a CORS simple request)', body: '{}', contentType: 'text/plain', status: 415 },
    { name: 'form body', body: 'email=a', contentType: 'application/x-www-form-urlencoded', status: 415 },
    { name: 'body over the limit', body: JSON.stringify({ name: 'x'.repeat(70_000) }), status: 413 },
  ]
  for (const c of cases) {
    const response = await fetch(`${url}/api/auth/sign-up/email`, {
      method: 'POST',
      headers: { 'content-type': c.contentType ?? 'application/json', origin: trustedOrigin },
      body: c.body,
    })
    const body = (await response.json()) as { code?: string }
    t.equal(response.status, c.status, `${c.name}: ${response.status} ${JSON.stringify(body)}`)
    t.type(body.code, 'string', `${c.name}: a stable error code`)
  }
})
