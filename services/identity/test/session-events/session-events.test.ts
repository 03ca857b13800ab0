// Identity events that end token-service sessions (docs/sessions.md, checklist R43), against the
// real processes: identity on its own PostgreSQL schema, token-service on real Redis.
import { randomBytes, randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import pg from 'pg'
import { createTestRedisPrefix, createTestSchema, exchange, freePort, refresh, spawnTokenService, startIdentity, within, type SignedUpUser, type SpawnedTokenService } from '@todo-auth/testkit'

const schema = await createTestSchema('t_identity')
t.teardown(() => schema.drop())
const redis = createTestRedisPrefix('t-session-events')
t.teardown(() => redis.cleanup())
const db = new pg.Pool({ connectionString: schema.url, max: 2 })
t.teardown(() => db.end())

const adminToken = randomBytes(32).toString('base64url')
const adminPort = await freePort()
const keyEncryptionKey = randomBytes(32).toString('hex')

const identity = await startIdentity({
  env: { DATABASE_URL: schema.url, TOKEN_SERVICE_ADMIN_URL: `http://127.0.0.1:${adminPort}`, TOKEN_SERVICE_ADMIN_TOKEN: adminToken, LOG_LEVEL: 'trace' },
})
t.teardown(() => identity.close())

/** token-service on the admin port identity was told about; a restart keeps its Redis data and keys. */
// The polling below refreshes often, far beyond the default 60 per minute and address.
const startTokenService = () => spawnTokenService({ redisPrefix: redis.prefix, identity, admin: { token: adminToken }, env: { ADMIN_PORT: String(adminPort), KEY_ENCRYPTION_KEY: keyEncryptionKey, RATE_LIMIT_MAX: '100000' } })
let tokenService: SpawnedTokenService = await startTokenService()
t.teardown(() => tokenService.stop())

const origin = 'http://localhost:8080'
async function call(path: string, cookie: string, body: unknown = {}): Promise<{ status: number; body: string }> {
  const response = await fetch(`${identity.url}/api/auth${path}`, { method: 'POST', headers: { 'content-type': 'application/json', origin, cookie }, body: JSON.stringify(body) })
  return { status: response.status, body: await response.text() }
}

// An administrator as BetterAuth's admin plugin knows one: role `admin` on the user row.
const admin = await identity.signUp()
await db.query(`update "user" set role = 'admin' where id = $1`, [admin.userId])

/** A user signed in at token-service (cli client), with a refresh token that has been rotated once, so it works. */
async function signedInUser(t: Test): Promise<SignedUpUser & { refreshToken: string }> {
  const user = await identity.signUp()
  const exchanged = await exchange(tokenService.url, user.jwt)
  t.equal(exchanged.status, 200, 'exchange')
  const refreshed = await refresh(tokenService.url, exchanged.body.refresh_token!)
  t.equal(refreshed.status, 200, 'refresh works before the event')
  return { ...user, refreshToken: refreshed.body.refresh_token! }
}

/**
 * Refreshes until token-service answers invalid_grant, taking each rotated
 * token (never reusing one, which would end the family for another reason).
 * Resolves to the elapsed ms, or -1 after timeoutMs.
 */
async function sessionsEnd(start: string, timeoutMs: number): Promise<number> {
  let current = start
  return within(timeoutMs, async () => {
    const reply = await refresh(tokenService.url, current)
    if (reply.status === 200) current = reply.body.refresh_token!
    return reply.status === 400 && reply.body.error === 'invalid_grant'
  })
}

const logged = (event: string, sub: string) => identity.lines.some((line) => line.includes(`"event":"${event}"`) && line.includes(`"sub":"${sub}"`))

async function expectEnded(t: Test, user: { userId: string; refreshToken: string }, reason: string) {
  const elapsed = await sessionsEnd(user.refreshToken, 5000)
  t.ok(elapsed >= 0, `refresh answers invalid_grant within 5 s (${Math.round(elapsed)} ms)`)
  // The log line may reach this process's pipe a little after token-service answered.
  const delivered = await within(2000, async () => identity.lines.some((line) => line.includes('"event":"session_event_delivered"') && line.includes(`"sub":"${user.userId}"`) && line.includes(`"reason":"${reason}"`)))
  t.ok(delivered >= 0, `delivery of ${reason} logged`)
}

t.test('an admin banning a user ends their token-service sessions', async (t) => {
  const user = await signedInUser(t)
  const banned = await call('/admin/ban-user', admin.cookie, { userId: user.userId, banReason: 'test' })
  t.equal(banned.status, 200, banned.body)
  await expectEnded(t, user, 'banned')

  // The admin plugin's update-user can ban too.
  const other = await signedInUser(t)
  const renamed = await call('/admin/update-user', admin.cookie, { userId: other.userId, data: { name: 'Renamed' } })
  t.equal(renamed.status, 200, renamed.body)
  t.notOk(logged('session_event_recorded', other.userId), 'an update that bans nobody records nothing')
  const updated = await call('/admin/update-user', admin.cookie, { userId: other.userId, data: { banned: true } })
  t.equal(updated.status, 200, updated.body)
  await expectEnded(t, other, 'banned')
})

t.test('an admin removing a user ends their token-service sessions', async (t) => {
  const user = await signedInUser(t)
  const removed = await call('/admin/remove-user', admin.cookie, { userId: user.userId })
  t.equal(removed.status, 200, removed.body)
  await expectEnded(t, user, 'deleted')
})

t.test("an admin revoking a user's sessions or setting their password ends their token-service sessions", async (t) => {
  const revoked = await signedInUser(t)
  const answer = await call('/admin/revoke-user-sessions', admin.cookie, { userId: revoked.userId })
  t.equal(answer.status, 200, answer.body)
  await expectEnded(t, revoked, 'sessions_revoked')

  const reset = await signedInUser(t)
  const set = await call('/admin/set-user-password', admin.cookie, { userId: reset.userId, newPassword: randomBytes(18).toString('base64url') })
  t.equal(set.status, 200, set.body)
  await expectEnded(t, reset, 'password_changed')
})

t.test('a user changing their password ends their token-service sessions; a refused change does not', async (t) => {
  const user = await signedInUser(t)
  const refused = await call('/change-password', user.cookie, { currentPassword: 'not the password at all', newPassword: randomBytes(18).toString('base64url') })
  t.equal(refused.status, 400, refused.body)
  // The event is recorded before the answer goes out, so its absence is final here.
  t.notOk(logged('session_event_recorded', user.userId), 'a refused change records nothing')
  t.equal((await refresh(tokenService.url, user.refreshToken)).status, 200, 'the session still refreshes')

  const fresh = await signedInUser(t)
  const changed = await call('/change-password', fresh.cookie, { currentPassword: fresh.password, newPassword: randomBytes(18).toString('base64url') })
  t.equal(changed.status, 200, changed.body)
  await expectEnded(t, fresh, 'password_changed')
})

t.test('a user resetting their password ends their token-service sessions', async (t) => {
  const user = await signedInUser(t)
  // identity has no mail sender, so request-password-reset cannot mail the token: the test
  // stores the verification row that endpoint would have written, and redeems it as the mail's link would.
  const token = randomBytes(16).toString('hex')
  await db.query(`insert into verification (id, identifier, value, "expiresAt", "createdAt", "updatedAt") values ($1, $2, $3, now() + interval '1 hour', now(), now())`, [randomUUID(), `reset-password:${token}`, user.userId])
  const reset = await fetch(`${identity.url}/api/auth/reset-password`, { method: 'POST', headers: { 'content-type': 'application/json', origin }, body: JSON.stringify({ token, newPassword: randomBytes(18).toString('base64url') }) })
  t.equal(reset.status, 200, await reset.text())
  await expectEnded(t, user, 'password_reset')
})

t.test('a user revoking all their BetterAuth sessions ends their token-service sessions', async (t) => {
  const user = await signedInUser(t)
  const revoked = await call('/revoke-sessions', user.cookie)
  t.equal(revoked.status, 200, revoked.body)
  await expectEnded(t, user, 'sessions_revoked')
})

t.test('an event while token-service is down is delivered once it is back', async (t) => {
  const user = await signedInUser(t)
  await tokenService.stop()
  const banned = await call('/admin/ban-user', admin.cookie, { userId: user.userId })
  t.equal(banned.status, 200, banned.body)
  t.ok((await within(5000, async () => logged('session_event_delivery_failed', user.userId))) >= 0, 'a failed attempt is logged')
  const pending = await db.query<{ count: string }>(`select count(*) from identity_session_event where user_id = $1`, [user.userId])
  t.equal(pending.rows[0]!.count, '1', 'the event waits in the outbox')

  tokenService = await startTokenService()
  // Retries back off to at most 10 s, so the event goes out at most that long after token-service is back.
  const elapsed = await sessionsEnd(user.refreshToken, 15_000)
  t.ok(elapsed >= 0, `refresh answers invalid_grant within 15 s of the restart (${Math.round(elapsed)} ms)`)
  t.ok((await within(2000, async () => (await db.query(`select 1 from identity_session_event`)).rowCount === 0)) >= 0, 'the outbox is empty once delivered')
})

t.test('identity never logs the admin token', async (t) => {
  t.ok(identity.lines.length > 0)
  t.ok(
    identity.lines.some((line) => line.includes('session_event_delivery_failed')),
    'failed attempts were logged',
  )
  t.notOk(
    identity.lines.some((line) => line.includes(adminToken)),
    'TOKEN_SERVICE_ADMIN_TOKEN appears in no log line',
  )
})
