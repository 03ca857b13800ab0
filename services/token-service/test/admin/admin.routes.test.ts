import t, { type Test } from 'tap'
import { SignJWT } from 'jose'
import type { AuditEvent } from '../../src/audit/audit-log.ts'
import { build, testClock } from '../helpers/build.ts'

async function setup(t: Test, env: Record<string, string> = {}, clock = testClock()) {
  const events: AuditEvent[] = []
  const app = await build(t, env, { deps: { clock, audit: (event) => events.push(event) } })
  const token = app.config.ADMIN_TOKEN!
  const admin = (method: 'GET' | 'POST' | 'DELETE', url: string, headers: Record<string, string> = { authorization: `Bearer ${token}` }) => app.adminApp!.inject({ method, url, headers })
  return { app, token, admin, events, clock }
}

t.test('the admin API refuses every bad credential with 401 and audits it, never echoing the token', async (t) => {
  const { token, admin, events } = await setup(t, { ADMIN_RATE_LIMIT_MAX: '1000' })
  const flipped = token.slice(0, -1) + (token.endsWith('a') ? 'b' : 'a')
  const cases: [string, Record<string, string>, string][] = [
    ['no Authorization header', {}, 'missing_credentials'],
    ['an empty Authorization header', { authorization: '' }, 'missing_credentials'],
    ['a wrong token', { authorization: 'Bearer wrong-token-wrong-token-wrong-token' }, 'wrong_token'],
    ['a token differing in its last character', { authorization: `Bearer ${flipped}` }, 'wrong_token'],
    ['a token differing in its first character', { authorization: `Bearer ${token[0] === 'x' ? 'y' : 'x'}${token.slice(1)}` }, 'wrong_token'],
    ['a prefix of the token', { authorization: `Bearer ${token.slice(0, 10)}` }, 'wrong_token'],
    ['the token plus one character', { authorization: `Bearer ${token}x` }, 'wrong_token'],
    ['a very long (10 kB) token', { authorization: `Bearer ${'A'.repeat(10_240)}` }, 'wrong_token'],
    ['lowercase bearer with a wrong token', { authorization: 'bearer wrong-token-wrong-token-wrong-token' }, 'wrong_token'],
    ['two spaces after Bearer', { authorization: `Bearer  ${token}` }, 'malformed_credentials'],
    ['a trailing space', { authorization: `Bearer ${token} ` }, 'malformed_credentials'],
    ['Basic scheme', { authorization: `Basic ${Buffer.from(`admin:${token}`).toString('base64')}` }, 'malformed_credentials'],
    ['the bare token', { authorization: token }, 'malformed_credentials'],
    ['Bearer with no token', { authorization: 'Bearer ' }, 'malformed_credentials'],
  ]
  for (const [name, headers, reason] of cases) {
    for (const [method, url] of [
      ['GET', '/admin/keys'],
      ['POST', '/admin/keys/rotate?force=true'],
      ['GET', '/metrics'],
      ['GET', '/admin/nope'],
    ] as const) {
      events.length = 0
      const res = await admin(method, url, headers)
      t.equal(res.statusCode, 401, `${name}: ${method} ${url} → 401`)
      t.equal(res.json().code, 'UNAUTHORIZED')
      t.equal(res.headers['www-authenticate'], 'Bearer realm="token-service-admin"')
      t.notOk(res.body.includes(token), 'the body never echoes the token')
      t.equal(events.length, 1, `${name}: one audit event`)
      t.match(events[0], { event: 'audit', type: 'admin', ip: '127.0.0.1', outcome: 'failure', status: 401, cause: reason })
      t.notOk(JSON.stringify(events[0]).includes(token), 'the audit event holds no token')
    }
  }
})

t.test('an access token of this issuer is not an admin credential', async (t) => {
  const { admin, app, events } = await setup(t)
  const { kid, alg, privateKey } = app.keys.signingKey()
  const accessToken = await new SignJWT({ sub: 'user-1', roles: ['admin'], scope: 'todos:read todos:write' })
    .setProtectedHeader({ alg, kid, typ: 'at+jwt' })
    .setIssuer(app.config.ISSUER)
    .setAudience('todo-api')
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(privateKey)
  const res = await admin('GET', '/admin/keys', { authorization: `Bearer ${accessToken}` })
  t.equal(res.statusCode, 401)
  t.match(events.at(-1), { outcome: 'failure', cause: 'wrong_token' })
})

t.test('a good token is accepted and the call is audited', async (t) => {
  const { token, admin, events, app } = await setup(t)
  const res = await admin('GET', '/admin/keys')
  t.equal(res.statusCode, 200)
  t.equal(res.headers['cache-control'], 'no-store')
  const list = res.json() as { kid: string; alg: string; state: string; created_at: string; activated_at: string | null; retired_at: string | null; expires_at: string | null }[]
  t.same(
    list.map((k) => k.state),
    ['current', 'next'],
  )
  t.equal(list[0]!.kid, app.keys.signingKey().kid)
  t.same(Object.keys(list[0]!).sort(), ['activated_at', 'alg', 'created_at', 'expires_at', 'kid', 'retired_at', 'state'])
  t.match(list[0], { alg: 'ES256', activated_at: /^\d{4}-\d\d-\d\dT/, retired_at: null, expires_at: null })
  t.match(list[1], { activated_at: null })
  t.equal(events.length, 1)
  t.match(events[0], { action: 'GET /admin/keys', outcome: 'success', status: 200, ip: '127.0.0.1' })
  t.notOk(JSON.stringify(events).includes(token))
  const lowercase = await admin('GET', '/admin/keys', { authorization: `bearer ${token}` })
  t.equal(lowercase.statusCode, 200, 'the scheme name is case-insensitive (RFC 7235 §2.1)')
  const unknown = await admin('GET', '/admin/nope')
  t.equal(unknown.statusCode, 404, 'an unknown admin path with a good token is 404')
})

t.test('the probes on the admin listener need no token and are not audited', async (t) => {
  const { admin, events } = await setup(t)
  t.equal((await admin('GET', '/healthz', {})).statusCode, 200)
  t.equal((await admin('GET', '/readyz', {})).statusCode, 200)
  t.equal(events.length, 0)
})

t.test('admin requests are rate limited per address with 429 and Retry-After, and audited', async (t) => {
  const { admin, events, token } = await setup(t, { ADMIN_RATE_LIMIT_MAX: '3' })
  for (let i = 0; i < 3; i++) t.equal((await admin('GET', '/admin/keys', { authorization: 'Bearer guess' })).statusCode, 401)
  const limited = await admin('GET', '/admin/keys', { authorization: 'Bearer guess' })
  t.equal(limited.statusCode, 429, 'failed attempts count towards the limit')
  t.ok(Number(limited.headers['retry-after']) > 0, 'Retry-After')
  t.equal(limited.json().code, 'RATE_LIMITED')
  const evenGood = await admin('GET', '/admin/keys', { authorization: `Bearer ${token}` })
  t.equal(evenGood.statusCode, 429, 'the right token does not bypass the limit')
  t.match(events.at(-1), { outcome: 'failure', status: 429, cause: 'rate_limited' })
})

t.test('the public listener does not serve the admin API, and audits every probe for it', async (t) => {
  const { app, token, events } = await setup(t)
  for (const [method, url] of [
    ['GET', '/admin/keys'],
    ['POST', '/admin/keys/rotate'],
    ['POST', '/admin/keys/x/revoke'],
    ['DELETE', '/admin/users/u/sessions'],
    ['GET', '/admin/'],
    ['GET', '/metrics'],
  ] as const) {
    events.length = 0
    const res = await app.publicApp.inject({ method, url, headers: { authorization: `Bearer ${token}` } })
    t.equal(res.statusCode, 404, `public ${method} ${url} → 404`)
    if (url.startsWith('/admin')) {
      t.equal(events.length, 1, `public ${method} ${url} is audited`)
      t.match(events[0], { event: 'audit', type: 'admin', ip: '127.0.0.1', action: `${method} ${url}`, outcome: 'failure', status: 404, cause: 'admin_on_public_listener' })
      t.notOk(JSON.stringify(events[0]).includes(token), 'the audit event holds no token')
    }
  }
  events.length = 0
  await app.publicApp.inject({ method: 'GET', url: '/.well-known/jwks.json' })
  t.equal(events.length, 0, 'ordinary public requests are not admin audit events')
})

t.test('rotation is refused with 409 while the next key is too young, unless forced', async (t) => {
  const clock = testClock()
  const { admin, events, app } = await setup(t, { JWKS_MAX_AGE: '300', KEY_PUBLISH_MARGIN: '60' }, clock)
  const before = app.keys.signingKey().kid
  const young = await admin('POST', '/admin/keys/rotate')
  t.equal(young.statusCode, 409)
  t.equal(young.json().code, 'NEXT_KEY_TOO_YOUNG')
  t.equal(young.headers['retry-after'], '360')
  t.match(events.at(-1), { action: 'POST /admin/keys/rotate', outcome: 'failure', status: 409, cause: 'next_key_too_young' })
  t.equal(app.keys.signingKey().kid, before, 'nothing changed')

  clock.advance(359_000)
  t.equal((await admin('POST', '/admin/keys/rotate')).statusCode, 409, 'one second short')
  clock.advance(1_000)
  const ok = await admin('POST', '/admin/keys/rotate')
  t.equal(ok.statusCode, 200, 'published JWKS_MAX_AGE + margin ago: allowed')
  const body = ok.json()
  t.equal(body.retired, before)
  t.equal(app.keys.signingKey().kid, body.current, 'this instance signs with the new current key at once')

  const again = await admin('POST', '/admin/keys/rotate')
  t.equal(again.statusCode, 409, 'the new next key is too young')
  const forced = await admin('POST', '/admin/keys/rotate?force=true')
  t.equal(forced.statusCode, 200)
  t.equal(forced.json().current, body.next)
  t.match(events.at(-1), { action: 'POST /admin/keys/rotate', outcome: 'success', status: 200 })
  t.equal((await admin('POST', '/admin/keys/rotate?force=maybe')).statusCode, 400, 'force must be true or false')

  const list = (await admin('GET', '/admin/keys')).json() as { kid: string; state: string; expires_at: string | null; retired_at: string | null }[]
  t.same(
    list.map((k) => k.state),
    ['current', 'next', 'retired', 'retired'],
  )
  const retired = list.find((k) => k.kid === before)!
  t.equal(Date.parse(retired.expires_at!) - Date.parse(retired.retired_at!), (900 + 30) * 1000, 'expires ACCESS_TOKEN_TTL + CLOCK_TOLERANCE after retirement')
})

t.test('revoke answers 404 for an unknown kid and 200 for current, next and retired keys', async (t) => {
  const { admin, app, events } = await setup(t)
  const unknown = await admin('POST', '/admin/keys/nope/revoke')
  t.equal(unknown.statusCode, 404)
  t.equal(unknown.json().code, 'UNKNOWN_KID')
  t.match(events.at(-1), { action: 'POST /admin/keys/:kid/revoke', kid: 'nope', outcome: 'failure', status: 404, cause: 'unknown_kid' })
  t.equal((await admin('POST', `/admin/keys/${'x'.repeat(300)}/revoke`)).statusCode, 404, 'an absurd kid is not found either')
  t.equal((await admin('POST', `/admin/keys/${encodeURIComponent('../x')}/revoke`)).statusCode, 404)

  const jwksKids = async () => ((await app.publicApp.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json().keys as { kid: string }[]).map((k) => k.kid)
  const [current, next] = (await jwksKids()) as [string, string]
  t.equal(current, app.keys.signingKey().kid)

  const revokedCurrent = await admin('POST', `/admin/keys/${current}/revoke`)
  t.equal(revokedCurrent.statusCode, 200)
  t.match(revokedCurrent.json(), { kid: current, state: 'revoked', previous_state: 'current', current: next })
  t.equal(app.keys.signingKey().kid, next, 'next is promoted at once')
  const afterCurrent = await jwksKids()
  t.notOk(afterCurrent.includes(current), 'the revoked key leaves the JWKS at once')
  t.equal(afterCurrent.length, 2, 'a new next key is published')
  t.match(events.at(-1), { kid: current, outcome: 'success', status: 200 })

  const newNext = afterCurrent[1]!
  const revokedNext = await admin('POST', `/admin/keys/${newNext}/revoke`)
  t.match(revokedNext.json(), { previous_state: 'next', current: next })
  const afterNext = await jwksKids()
  t.notOk(afterNext.includes(newNext))
  t.equal(afterNext.length, 2)

  const rotated = (await admin('POST', '/admin/keys/rotate?force=true')).json()
  t.equal(rotated.retired, next)
  t.ok((await jwksKids()).includes(next), 'retired key still published')
  const revokedRetired = await admin('POST', `/admin/keys/${next}/revoke`)
  t.match(revokedRetired.json(), { previous_state: 'retired' })
  t.notOk((await jwksKids()).includes(next), 'a revoked retired key leaves the JWKS')
  await t.rejects(app.keys.verificationKey({ alg: 'ES256', kid: next }), { code: 'ERR_JWKS_NO_MATCHING_KEY' }, 'and cannot verify any more')

  const twice = await admin('POST', `/admin/keys/${next}/revoke`)
  t.equal(twice.statusCode, 200, 'revoking again is harmless')
  const states = ((await admin('GET', '/admin/keys')).json() as { state: string }[]).map((k) => k.state)
  t.equal(states.filter((s) => s === 'current').length, 1)
  t.equal(states.filter((s) => s === 'next').length, 1)
})

t.test('/metrics exposes key states, rotations and admin failures in Prometheus text', async (t) => {
  const { admin } = await setup(t)
  await admin('GET', '/admin/keys', { authorization: 'Bearer nope' })
  await admin('POST', '/admin/keys/rotate?force=true')
  const res = await admin('GET', '/metrics')
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/)
  t.match(res.body, /^# TYPE token_service_key_rotations_total counter$/m)
  t.match(res.body, /^token_service_key_rotations_total\{trigger="admin"\} 1$/m)
  t.match(res.body, /^token_service_admin_auth_failures_total\{reason="wrong_token"\} 1$/m)
  t.match(res.body, /^token_service_signing_keys\{state="current"\} 1$/m)
  t.match(res.body, /^token_service_signing_keys\{state="retired"\} 1$/m)
  t.match(res.body, /^token_service_signing_keys_loaded 1$/m)
})
