import t from 'tap'
import { Compile } from 'typebox/compile'
import { SessionList } from '@todo-auth/contracts'
import { startIdentity } from '@todo-auth/testkit'
import { build, testClock, type Built } from '../helpers/build.ts'
import { exchange, identityEnv, post, refresh, webOrigin } from '../grants/helpers.ts'

const identity = await startIdentity()
t.teardown(() => identity.close())
const env = { ...identityEnv(identity), RATE_LIMIT_MAX: '100000' }

async function signIn(app: Built, jwt: string, clientId = 'cli', userAgent = 'agent/1') {
  const headers: Record<string, string> = { 'user-agent': userAgent, ...(clientId === 'web' ? { origin: webOrigin } : {}) }
  const response = await exchange(app.publicApp, jwt, { client_id: clientId }, headers)
  if (response.statusCode !== 200) throw new Error(`exchange failed: ${response.body}`)
  return response.json() as { access_token: string; refresh_token?: string }
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
const sessionsOf = async (app: Built, accessToken: string) => {
  const response = await app.publicApp.inject({ method: 'GET', url: '/sessions', headers: bearer(accessToken) })
  return response.json() as Array<{ id: string; current: boolean; client_id: string; user_agent: string | null }>
}

function revoke(app: Built, params: Record<string, string>) {
  return post(app.publicApp, '/oauth/revoke', params)
}

t.test('POST /oauth/revoke ends the session of a refresh token and answers 200 for known and unknown tokens alike', async (t) => {
  const app = await build(t, env)
  const { jwt } = await identity.signUp()
  const session = await signIn(app, jwt)
  const other = await signIn(app, jwt)

  const unknown = await revoke(app, { token: 'x'.repeat(64), client_id: 'cli' })
  t.equal(unknown.statusCode, 200, 'unknown token: 200')
  t.equal(unknown.body, '')
  t.equal(unknown.headers['cache-control'], 'no-store')
  t.equal((await revoke(app, { token: 'garbage', client_id: 'cli', token_type_hint: 'refresh_token' })).statusCode, 200, 'garbage: 200')
  t.equal((await revoke(app, { token: session.access_token, client_id: 'cli', token_type_hint: 'access_token' })).statusCode, 200, 'an access token: 200')
  t.equal((await refresh(app.publicApp, session.refresh_token!)).statusCode, 200, 'revoking the access token did nothing to the session')

  const chained = await signIn(app, jwt)
  const done = await revoke(app, { token: chained.refresh_token!, client_id: 'cli' })
  t.equal(done.statusCode, 200)
  t.equal((await refresh(app.publicApp, chained.refresh_token!)).json().error, 'invalid_grant', 'the session is gone')
  t.equal((await refresh(app.publicApp, other.refresh_token!)).statusCode, 200, 'other sessions live on')

  const missing = await revoke(app, { client_id: 'cli' })
  t.equal(missing.statusCode, 400)
  t.equal(missing.json().error, 'invalid_request', 'token is required for a body client')
  const noClient = await revoke(app, { token: 'x' })
  t.equal(noClient.json().error, 'invalid_request', 'client_id is required')
  const unknownClient = await revoke(app, { token: 'x', client_id: 'mallory' })
  t.equal(unknownClient.statusCode, 401)
  t.equal(unknownClient.json().error, 'invalid_client')
})

t.test('a client cannot revoke another client’s refresh token', async (t) => {
  const app = await build(t, {
    ...env,
    CLIENTS: JSON.stringify([
      { client_id: 'cli', refresh_token_delivery: 'body', scopes: ['todos:read'] },
      { client_id: 'cli2', refresh_token_delivery: 'body', scopes: ['todos:read'] },
    ]),
  })
  const { jwt } = await identity.signUp()
  const session = await signIn(app, jwt)
  t.equal((await revoke(app, { token: session.refresh_token!, client_id: 'cli2' })).statusCode, 200, '200, revealing nothing')
  t.equal((await refresh(app.publicApp, session.refresh_token!)).statusCode, 200, 'but the session is untouched')
  t.equal((await refresh(app.publicApp, session.refresh_token!, { client_id: 'cli2' })).json().error, 'invalid_grant', 'nor usable by cli2')
})

t.test('GET /sessions lists the caller’s live sessions and marks the current one', async (t) => {
  const clock = testClock()
  const app = await build(t, env, { deps: { clock } })
  const alice = await identity.signUp()
  const bob = await identity.signUp()
  const a1 = await signIn(app, alice.jwt, 'cli', 'curl/8.0')
  clock.advance(1000)
  const a2 = await signIn(app, alice.jwt, 'web', 'Mozilla/5.0 Firefox')
  await signIn(app, bob.jwt)

  const response = await app.publicApp.inject({ method: 'GET', url: '/sessions', headers: bearer(a1.access_token) })
  t.equal(response.statusCode, 200)
  t.equal(response.headers['cache-control'], 'no-store')
  const list = response.json()
  t.ok(Compile(SessionList).Check(list), 'matches contracts SessionList')
  t.same(
    list.map((s: { client_id: string; user_agent: string; current: boolean }) => [s.client_id, s.user_agent, s.current]),
    [
      ['web', 'Mozilla/5.0 Firefox', false],
      ['cli', 'curl/8.0', true],
    ],
    'newest first, only alice’s, current marked',
  )
  const [web] = list
  t.equal(web.created_at, new Date(clock.now()).toISOString())
  t.equal(web.expires_at, new Date(clock.now() + 604_800_000).toISOString())
  t.equal(new Set(Object.keys(web)).size, 7)
  const fromWeb = await sessionsOf(app, a2.access_token)
  t.same(
    fromWeb.map((s) => s.current),
    [true, false],
  )
})

t.test('DELETE /sessions/{id} ends one of the caller’s sessions and 404s for anyone else’s', async (t) => {
  const app = await build(t, env)
  const alice = await identity.signUp()
  const bob = await identity.signUp()
  const a1 = await signIn(app, alice.jwt)
  const a2 = await signIn(app, alice.jwt)
  const b1 = await signIn(app, bob.jwt)
  const [bobSession] = await sessionsOf(app, b1.access_token)
  const aliceSessions = await sessionsOf(app, a1.access_token)

  const foreign = await app.publicApp.inject({ method: 'DELETE', url: `/sessions/${bobSession!.id}`, headers: bearer(a1.access_token) })
  t.equal(foreign.statusCode, 404, 'bob’s session is not found for alice')
  t.same(foreign.json(), { code: 'SESSION_NOT_FOUND', message: 'no such session' })
  t.equal((await refresh(app.publicApp, b1.refresh_token!)).statusCode, 200, 'bob’s session lives on')
  for (const id of ['nope', 'A'.repeat(22), '..%2F..%2Fetc', '*']) {
    const r = await app.publicApp.inject({ method: 'DELETE', url: `/sessions/${id}`, headers: bearer(a1.access_token) })
    t.equal(r.statusCode, 404, `${id}: 404`)
  }

  const other = aliceSessions.find((s) => !s.current)!
  const ended = await app.publicApp.inject({ method: 'DELETE', url: `/sessions/${other.id}`, headers: bearer(a1.access_token) })
  t.equal(ended.statusCode, 204)
  t.equal(ended.body, '')
  t.equal((await refresh(app.publicApp, a2.refresh_token!)).json().error, 'invalid_grant', 'that session’s refresh token is dead')
  t.equal((await sessionsOf(app, a1.access_token)).length, 1)
  const again = await app.publicApp.inject({ method: 'DELETE', url: `/sessions/${other.id}`, headers: bearer(a1.access_token) })
  t.equal(again.statusCode, 404, 'already gone')
})

t.test('DELETE /sessions signs the caller out everywhere and leaves other users alone', async (t) => {
  const app = await build(t, env)
  const alice = await identity.signUp()
  const bob = await identity.signUp()
  const sessions = [await signIn(app, alice.jwt), await signIn(app, alice.jwt, 'web'), await signIn(app, alice.jwt)]
  const b1 = await signIn(app, bob.jwt)
  const response = await app.publicApp.inject({ method: 'DELETE', url: '/sessions', headers: bearer(sessions[0]!.access_token) })
  t.equal(response.statusCode, 204)
  t.same(await sessionsOf(app, sessions[0]!.access_token), [], 'nothing left')
  for (const s of sessions.filter((s) => s.refresh_token)) t.equal((await refresh(app.publicApp, s.refresh_token!)).json().error, 'invalid_grant')
  t.equal((await refresh(app.publicApp, b1.refresh_token!)).statusCode, 200, 'bob is untouched')
})

t.test('the sessions API takes only our access tokens', async (t) => {
  const app = await build(t, env)
  const user = await identity.signUp()
  const session = await signIn(app, user.jwt)
  const cases: Array<[string, Record<string, string>, number]> = [
    ['no credentials', {}, 401],
    ['a refresh token', bearer(session.refresh_token!), 401],
    ['a BetterAuth JWT', bearer(user.jwt), 401],
    ['a tampered access token', bearer(`${session.access_token.slice(0, -4)}AAAA`), 401],
    ['Basic credentials', { authorization: 'Basic dXNlcjpwYXNz' }, 401],
    ['a malformed bearer header', { authorization: 'Bearer a b' }, 400],
  ]
  for (const [label, headers, status] of cases) {
    const response = await app.publicApp.inject({ method: 'GET', url: '/sessions', headers })
    t.equal(response.statusCode, status, `${label}: ${status}`)
    t.match(response.headers['www-authenticate'], /^Bearer realm="token-service"/, `${label}: challenge`)
    t.notMatch(response.body, /stack|\.ts:\d/, `${label}: no stack`)
  }
  const inUrl = await app.publicApp.inject({ method: 'GET', url: `/sessions?access_token=${session.access_token}` })
  t.equal(inUrl.statusCode, 400, 'a token in the URL is refused')
})

t.test('an expired access token no longer opens the sessions API', async (t) => {
  const clock = testClock()
  const app = await build(t, env, { deps: { clock } })
  const user = await identity.signUp()
  const session = await signIn(app, user.jwt)
  clock.advance((900 + 31) * 1000)
  const response = await app.publicApp.inject({ method: 'GET', url: '/sessions', headers: bearer(session.access_token) })
  t.equal(response.statusCode, 401)
  t.match(response.headers['www-authenticate'], /error="invalid_token"/)
})

t.test('DELETE /admin/users/{sub}/sessions ends every session of one user, only with the admin token', async (t) => {
  const app = await build(t, env)
  const carol = await identity.signUp()
  const dave = await identity.signUp()
  const c1 = await signIn(app, carol.jwt)
  const c2 = await signIn(app, carol.jwt)
  const d1 = await signIn(app, dave.jwt)
  const url = `/admin/users/${encodeURIComponent(carol.userId)}/sessions`

  const anonymous = await app.adminApp!.inject({ method: 'DELETE', url })
  t.equal(anonymous.statusCode, 401, 'no admin token: 401')
  const userToken = await app.adminApp!.inject({ method: 'DELETE', url, headers: bearer(c1.access_token) })
  t.equal(userToken.statusCode, 401, 'a user access token is no admin credential')
  t.equal((await refresh(app.publicApp, c1.refresh_token!)).statusCode, 200, 'refused calls changed nothing')

  const done = await app.adminApp!.inject({ method: 'DELETE', url, headers: bearer(app.config.ADMIN_TOKEN!) })
  t.equal(done.statusCode, 204)
  t.equal((await refresh(app.publicApp, c2.refresh_token!)).json().error, 'invalid_grant', 'carol is signed out everywhere')
  t.equal((await refresh(app.publicApp, d1.refresh_token!)).statusCode, 200, 'dave is untouched')
  const unknown = await app.adminApp!.inject({ method: 'DELETE', url: '/admin/users/nobody/sessions', headers: bearer(app.config.ADMIN_TOKEN!) })
  t.equal(unknown.statusCode, 204, 'idempotent for a user without sessions')
  const publicRoute = await app.publicApp.inject({ method: 'DELETE', url, headers: bearer(app.config.ADMIN_TOKEN!) })
  t.equal(publicRoute.statusCode, 404, 'not on the public listener')
})
