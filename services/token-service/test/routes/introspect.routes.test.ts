import { randomBytes } from 'node:crypto'
import t from 'tap'
import { SignJWT, generateKeyPair } from 'jose'
import { startIdentity } from '@todo-auth/testkit'
import { loadConfig, ConfigError } from '../../src/config.ts'
import { build, testClock, type Built } from '../helpers/build.ts'
import { exchange, identityEnv, post, refresh } from '../grants/helpers.ts'

const identity = await startIdentity()
t.teardown(() => identity.close())
const secret = randomBytes(32).toString('base64url')
const env = { ...identityEnv(identity), RATE_LIMIT_MAX: '100000', INTROSPECTION_CLIENTS: `todo-api:${secret}` }
const basic = (id: string, pass: string) => ({ authorization: `Basic ${Buffer.from(`${id}:${pass}`).toString('base64')}` })
const rs = basic('todo-api', secret)

async function signIn(app: Built) {
  const { jwt } = await identity.signUp()
  const response = await exchange(app.publicApp, jwt)
  if (response.statusCode !== 200) throw new Error(`exchange failed: ${response.statusCode}`)
  return response.json() as { access_token: string; refresh_token: string; scope: string }
}
const introspect = (app: Built, token: string | undefined, headers: Record<string, string> = rs) => post(app.publicApp, '/oauth/introspect', token === undefined ? {} : { token }, headers)

t.test('an unauthenticated caller gets 401 invalid_client before the token is even looked at', async (t) => {
  const app = await build(t, env)
  const { access_token } = await signIn(app)
  for (const [what, headers] of [
    ['no credentials', {}],
    ['a wrong secret', basic('todo-api', `${secret}x`)],
    ['an unknown client', basic('mallory', secret)],
    ['a public client', basic('cli', '')],
    ['a bearer token', { authorization: `Bearer ${access_token}` }],
    ['a malformed Basic header', { authorization: 'Basic %%%' }],
  ] as const) {
    for (const token of [access_token, 'garbage']) {
      const response = await introspect(app, token, headers)
      t.equal(response.statusCode, 401, `${what}: 401`)
      t.same(response.json(), { error: 'invalid_client', error_description: 'client authentication failed' }, `${what}: the same answer for a real and a garbage token`)
      t.match(String(response.headers['www-authenticate']), /^Basic /)
    }
  }
  const noClients = await build(t, { ...env, INTROSPECTION_CLIENTS: undefined })
  t.equal((await introspect(noClients, access_token)).statusCode, 401, 'without INTROSPECTION_CLIENTS nobody may introspect')
})

t.test('a valid access token is active with its RFC 7662 claims until its session ends', async (t) => {
  const app = await build(t, env)
  const tokens = await signIn(app)
  const response = await introspect(app, tokens.access_token)
  t.equal(response.statusCode, 200)
  t.equal(response.headers['cache-control'], 'no-store')
  const body = response.json()
  const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>
  t.same(body, { active: true, token_type: 'Bearer', scope: claims.scope, client_id: 'cli', sub: claims.sub, aud: 'todo-api', iss: app.config.ISSUER, exp: claims.exp, iat: claims.iat, jti: claims.jti, sid: claims.sid })
  t.notOk('email' in body, 'no personal data beyond the RFC 7662 claims')

  t.equal((await post(app.publicApp, '/oauth/revoke', { token: tokens.refresh_token, client_id: 'cli' })).statusCode, 200)
  t.same((await introspect(app, tokens.access_token)).json(), { active: false }, 'its session was revoked: inactive at once')
})

t.test('a refresh token is active while current; looking neither rotates nor spends it', async (t) => {
  const app = await build(t, env)
  const tokens = await signIn(app)
  const first = (await introspect(app, tokens.refresh_token)).json()
  t.match(first, { active: true, client_id: 'cli', aud: 'todo-api', iss: app.config.ISSUER, scope: tokens.scope, sid: String })
  t.notOk('token_type' in first)
  t.ok(first.exp > first.iat)
  t.same((await introspect(app, tokens.refresh_token)).json(), first, 'a second look: the same')
  const next = await refresh(app.publicApp, tokens.refresh_token)
  t.equal(next.statusCode, 200, 'the introspected token still rotates')
  t.same((await introspect(app, tokens.refresh_token)).json(), { active: false }, 'the spent token is inactive')
  t.equal((await introspect(app, next.json().refresh_token)).json().active, true, 'its successor is active')
})

t.test('expired, foreign, forged and garbage tokens are all just { active: false }', async (t) => {
  const clock = testClock()
  const app = await build(t, env, { deps: { clock } })
  const tokens = await signIn(app)
  const { privateKey } = await generateKeyPair('ES256')
  const foreign = await new SignJWT({ scope: 'todos:read', client_id: 'cli', sid: 'x', email: '', roles: [] })
    .setProtectedHeader({ alg: 'ES256', kid: 'other', typ: 'at+jwt' })
    .setIssuer('https://elsewhere.example')
    .setSubject('u')
    .setAudience('todo-api')
    .setIssuedAt()
    .setExpirationTime('5m')
    .setJti('j')
    .sign(privateKey)
  const [h, p, s] = tokens.access_token.split('.') as [string, string, string]
  const tampered = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), scope: 'admin' })).toString('base64url')}.${s}`
  for (const [what, token] of [
    ['another issuer’s token', foreign],
    ['a tampered token', tampered],
    ['garbage', 'garbage'],
    ['a JWS-shaped garbage', 'a.b.c'],
    ['an unknown refresh token', 'x'.repeat(64)],
  ] as const) {
    const response = await introspect(app, token)
    t.equal(response.statusCode, 200, what)
    t.same(response.json(), { active: false }, what)
  }
  clock.advance((app.config.ACCESS_TOKEN_TTL + app.config.CLOCK_TOLERANCE + 1) * 1000)
  t.same((await introspect(app, tokens.access_token)).json(), { active: false }, 'an expired access token')
  t.equal((await introspect(app, tokens.refresh_token)).json().active, true, 'while its refresh token lives on')
  clock.advance(app.config.REFRESH_IDLE_TTL * 1000)
  t.same((await introspect(app, tokens.refresh_token)).json(), { active: false }, 'an idle-expired refresh token')

  const missing = await introspect(app, undefined)
  t.equal(missing.statusCode, 400)
  t.equal(missing.json().error, 'invalid_request', 'an authenticated call without a token: 400')
})

t.test('introspection is rate-limited per client IP like the other OAuth endpoints', async (t) => {
  const app = await build(t, { ...env, RATE_LIMIT_MAX: '2' })
  t.equal((await introspect(app, 'a')).statusCode, 200)
  t.equal((await introspect(app, 'b')).statusCode, 200)
  const limited = await introspect(app, 'c')
  t.equal(limited.statusCode, 429)
  t.equal(limited.json().error, 'too_many_requests')
})

t.test('INTROSPECTION_CLIENTS is checked and its secrets never appear in a message', async (t) => {
  const problem = (value: string) => {
    try {
      loadConfig({ INTROSPECTION_CLIENTS: value })
      return 'accepted'
    } catch (error) {
      t.type(error, ConfigError)
      return (error as Error).message
    }
  }
  const short = 'tooshort-secret'
  t.match(problem(`rs:${short}`), /INTROSPECTION_CLIENTS.*32 to 256 characters/)
  t.notMatch(problem(`rs:${short}`), short)
  t.match(problem(`cli:${secret}`), /client_id cli is already taken/, 'a public client id cannot be reused')
  t.match(problem(`rs:${secret},rs:${secret}`), /already taken/)
  t.match(problem(`just-an-id`), /client_id:client_secret/)
  const config = loadConfig({ INTROSPECTION_CLIENTS: `a:${secret}, b:${secret}` })
  t.same(
    config.introspectionClients.map((c) => c.clientId),
    ['a', 'b'],
  )
  t.notMatch(JSON.stringify(config), secret, 'the config object holds digests, not the secret')
})
