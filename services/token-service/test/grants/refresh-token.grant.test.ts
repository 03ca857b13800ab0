import t, { type Test } from 'tap'
import { base64url } from 'jose'
import { startIdentity } from '@todo-auth/testkit'
import { build, testClock } from '../helpers/build.ts'
import { exchange, identityEnv, refresh } from './helpers.ts'

const identity = await startIdentity()
t.teardown(() => identity.close())
const env = { ...identityEnv(identity), RATE_LIMIT_MAX: '100000' }

const claimsOf = (token: string) => JSON.parse(new TextDecoder().decode(base64url.decode(token.split('.')[1]!))) as Record<string, unknown>

async function started(t: Test, extraEnv: Record<string, string> = {}, params: Record<string, string> = {}) {
  const clock = testClock()
  const app = await build(t, { ...env, ...extraEnv }, { deps: { clock } })
  const user = await identity.signUp()
  const response = await exchange(app.publicApp, user.jwt, params)
  t.equal(response.statusCode, 200, 'exchange')
  return { app, clock, user, first: response.json() as { access_token: string; refresh_token: string; scope: string } }
}

function expectError(t: Test, response: { statusCode: number; json(): { error: string } }, status: number, error: string, label: string) {
  t.equal(response.statusCode, status, `${label}: status`)
  t.equal(response.json().error, error, `${label}: ${error}`)
}

t.test('a full rotation chain over many refreshes: every answer is a new pair in the same session', async (t) => {
  const { app, clock, user, first } = await started(t, { REFRESH_REUSE_GRACE: '0' })
  const sid = claimsOf(first.access_token).sid
  let token = first.refresh_token
  const seen = new Set([token])
  for (let i = 0; i < 25; i++) {
    clock.advance(10 * 60_000)
    const response = await refresh(app.publicApp, token)
    t.equal(response.statusCode, 200)
    t.equal(response.headers['cache-control'], 'no-store')
    const body = response.json()
    t.notOk('issued_token_type' in body, 'no issued_token_type on refresh')
    const claims = claimsOf(body.access_token)
    t.equal(claims.sid, sid, 'same session')
    t.equal(claims.sub, user.userId)
    t.equal(claims.iat, Math.floor(clock.now() / 1000), 'a fresh access token')
    t.notOk(seen.has(body.refresh_token), 'a new refresh token')
    seen.add(body.refresh_token)
    token = body.refresh_token
  }
  expectError(t, await refresh(app.publicApp, first.refresh_token), 400, 'invalid_grant', 'the first token, long spent')
  expectError(t, await refresh(app.publicApp, token), 400, 'invalid_grant', 'the newest token after the replay')
})

t.test('a replay after the grace window revokes the whole session and answers invalid_grant', async (t) => {
  const { app, clock, first } = await started(t)
  const second = (await refresh(app.publicApp, first.refresh_token)).json()
  clock.advance(10_001)
  expectError(t, await refresh(app.publicApp, first.refresh_token), 400, 'invalid_grant', 'replay')
  expectError(t, await refresh(app.publicApp, second.refresh_token), 400, 'invalid_grant', 'newest token revoked with it')
})

t.test('50 concurrent refreshes of one token inside the grace window all succeed with the same successor', async (t) => {
  const { app, first } = await started(t)
  const responses = await Promise.all(Array.from({ length: 50 }, () => refresh(app.publicApp, first.refresh_token)))
  t.same(
    responses.map((r) => r.statusCode),
    Array(50).fill(200),
    'all 200',
  )
  const successors = new Set(responses.map((r) => r.json().refresh_token as string))
  t.equal(successors.size, 1, 'one successor refresh token')
  const jtis = new Set(responses.map((r) => claimsOf(r.json().access_token).jti))
  t.equal(jtis.size, 50, 'each answer has its own access token')
  const [successor] = [...successors]
  const next = await refresh(app.publicApp, successor!)
  t.equal(next.statusCode, 200, 'the one chain continues')
  const sessions = await app.publicApp.inject({ method: 'GET', url: '/sessions', headers: { authorization: `Bearer ${next.json().access_token}` } })
  t.equal(sessions.json().length, 1, 'exactly one live session')
})

t.test('the same race after the grace window leaves the session revoked and no live token', async (t) => {
  const { app, clock, first } = await started(t)
  const winner = (await refresh(app.publicApp, first.refresh_token)).json()
  clock.advance(10_001)
  const responses = await Promise.all(Array.from({ length: 50 }, () => refresh(app.publicApp, first.refresh_token)))
  t.same(new Set(responses.map((r) => `${r.statusCode} ${r.json().error}`)), new Set(['400 invalid_grant']), 'all refused')
  expectError(t, await refresh(app.publicApp, winner.refresh_token), 400, 'invalid_grant', 'no live token left')
})

t.test('the session ends at its absolute lifetime however often it is refreshed', async (t) => {
  const { app, clock, first } = await started(t, { REFRESH_TOKEN_TTL: '3600', REFRESH_IDLE_TTL: '1800' })
  let token = first.refresh_token
  for (let i = 0; i < 5; i++) {
    clock.advance(11 * 60_000)
    const response = await refresh(app.publicApp, token)
    t.equal(response.statusCode, 200)
    token = response.json().refresh_token
  }
  clock.advance(6 * 60_000) // 61 minutes after the exchange
  expectError(t, await refresh(app.publicApp, token), 400, 'invalid_grant', 'absolute expiry')
})

t.test('an idle session ends after REFRESH_IDLE_TTL', async (t) => {
  const { app, clock, first } = await started(t, { REFRESH_TOKEN_TTL: '3600', REFRESH_IDLE_TTL: '600' })
  clock.advance(600_000)
  expectError(t, await refresh(app.publicApp, first.refresh_token), 400, 'invalid_grant', 'idle expiry')
})

t.test('refresh may narrow the scope, never widen it, and a refused request spends nothing', async (t) => {
  const { app, first } = await started(t, {}, { scope: 'todos:read' })
  t.equal(first.scope, 'todos:read')
  expectError(t, await refresh(app.publicApp, first.refresh_token, { scope: 'todos:read todos:write' }), 400, 'invalid_scope', 'widening')
  expectError(t, await refresh(app.publicApp, first.refresh_token, { scope: 'admin' }), 400, 'invalid_scope', 'unknown scope')
  expectError(t, await refresh(app.publicApp, first.refresh_token, { audience: 'elsewhere' }), 400, 'invalid_target', 'unknown audience')
  const same = await refresh(app.publicApp, first.refresh_token, { scope: 'todos:read', resource: 'todo-api' })
  t.equal(same.statusCode, 200, 'the token was not spent by the refused requests')
  t.equal(same.json().scope, 'todos:read')

  const wide = await started(t)
  const narrowed = await refresh(wide.app.publicApp, wide.first.refresh_token, { scope: 'todos:read' })
  t.equal(narrowed.statusCode, 200)
  t.equal(narrowed.json().scope, 'todos:read')
  t.equal(claimsOf(narrowed.json().access_token).scope, 'todos:read')
  const back = await refresh(wide.app.publicApp, narrowed.json().refresh_token)
  t.equal(back.json().scope, 'todos:read todos:write', 'the session keeps its scope; narrowing applies to one access token')
})

t.test('a refresh token is bound to its client, and refresh and access tokens never pass for each other', async (t) => {
  const { app, first } = await started(t)
  const asWeb = await refresh(app.publicApp, first.refresh_token, { client_id: 'web' }, { origin: 'http://localhost:8080' })
  expectError(t, asWeb, 400, 'invalid_request', 'web takes no refresh token in the body')
  const cookieAsWeb = await app.publicApp.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost:8080', cookie: `__Secure-refresh_token=${first.refresh_token}` },
    payload: 'grant_type=refresh_token&client_id=web',
  })
  expectError(t, cookieAsWeb, 400, 'invalid_grant', 'cli’s token presented by web')
  expectError(t, await refresh(app.publicApp, first.access_token), 400, 'invalid_grant', 'an access token as refresh token')
  const bearer = await app.publicApp.inject({ method: 'GET', url: '/sessions', headers: { authorization: `Bearer ${first.refresh_token}` } })
  t.equal(bearer.statusCode, 401, 'a refresh token as bearer token')
  t.match(bearer.headers['www-authenticate'], /error="invalid_token"/)
  t.equal((await refresh(app.publicApp, first.refresh_token)).statusCode, 200, 'the token still works for its own client')
  expectError(t, await refresh(app.publicApp, ''), 400, 'invalid_request', 'missing refresh_token')
  expectError(t, await refresh(app.publicApp, 'x'.repeat(64)), 400, 'invalid_grant', 'unknown refresh token')
})

t.test('the in-process store serves the same flow: exchange, rotate, grace repeat, reuse revokes', async (t) => {
  const clock = testClock()
  const app = await build(t, env, { store: 'memory', deps: { clock } })
  t.equal(app.redis, null)
  const user = await identity.signUp()
  const first = (await exchange(app.publicApp, user.jwt)).json()
  const second = await refresh(app.publicApp, first.refresh_token)
  t.equal(second.statusCode, 200)
  const repeat = await refresh(app.publicApp, first.refresh_token)
  t.equal(repeat.json().refresh_token, second.json().refresh_token, 'same successor inside the grace window')
  clock.advance(10_001)
  expectError(t, await refresh(app.publicApp, first.refresh_token), 400, 'invalid_grant', 'replay after the grace window')
  expectError(t, await refresh(app.publicApp, second.json().refresh_token), 400, 'invalid_grant', 'the session is revoked')
})
