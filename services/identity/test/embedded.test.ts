import t from 'tap'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import { startIdentity } from '@todo-auth/testkit'

// An inherited DATABASE_URL must not reach the embedded process (and would fail the start if it did).
process.env.DATABASE_URL = 'postgres://postgres@127.0.0.1:1/unreachable'

const identity = await startIdentity({ embedded: true })
t.teardown(() => identity.close())

t.test('with no DATABASE_URL the embedded PGlite serves sign-up, sign-in and JWTs end to end', async (t) => {
  const user = await identity.signUp()
  const { payload, protectedHeader } = await jwtVerify(user.jwt, createRemoteJWKSet(new URL(identity.jwksUrl)), {
    issuer: identity.issuer,
    audience: identity.audience,
    algorithms: identity.algorithms,
  })
  t.equal(protectedHeader.alg, 'EdDSA')
  t.equal(payload.sub, user.userId)
  t.equal(payload.email, user.email)
  t.equal(payload.role, 'user')

  const signIn = await fetch(`${identity.url}/api/auth/sign-in/email`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: 'http://localhost:8080' },
    body: JSON.stringify({ email: user.email, password: user.password }),
  })
  t.equal(signIn.status, 200)
  const cookie = signIn.headers
    .getSetCookie()
    .find((c) => c.startsWith('better-auth.session_token='))!
    .split(';')[0]!
  const jwt = await identity.getJwt(cookie)
  t.equal((await jwtVerify(jwt, createRemoteJWKSet(new URL(identity.jwksUrl)), { issuer: identity.issuer, audience: identity.audience, algorithms: identity.algorithms })).payload.sub, user.userId)

  const ready = await fetch(`${identity.url}/readyz`)
  t.equal(ready.status, 200)
})
