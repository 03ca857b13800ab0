// The session event outbox survives an identity restart and a refused admin token, on the
// embedded PGlite (a data directory), against a real token-service on real Redis.
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { createTestRedisPrefix, exchange, freePort, refresh, spawnTokenService, startIdentity, within } from '@todo-auth/testkit'

const dataDir = await mkdtemp(join(tmpdir(), 'identity-session-events-'))
t.teardown(() => rm(dataDir, { recursive: true, force: true }))
const redis = createTestRedisPrefix('t-session-events-restart')
t.teardown(() => redis.cleanup())

const adminToken = randomBytes(32).toString('base64url')
const wrongToken = randomBytes(32).toString('base64url')
const adminPort = await freePort()
const identityPort = await freePort()
// One secret for both processes: it encrypts the stored signing key.
const secret = randomBytes(32).toString('base64url')
const identityEnv = (token: string) => ({ BETTER_AUTH_SECRET: secret, PORT: String(identityPort), PGLITE_DATA_DIR: dataDir, TOKEN_SERVICE_ADMIN_URL: `http://127.0.0.1:${adminPort}`, TOKEN_SERVICE_ADMIN_TOKEN: token, LOG_LEVEL: 'trace' })

t.test('an event refused for a wrong admin token waits in the outbox and is delivered by the next identity', async (t) => {
  const first = await startIdentity({ embedded: true, env: identityEnv(wrongToken) })
  t.teardown(() => first.close())
  const tokenService = await spawnTokenService({ redisPrefix: redis.prefix, identity: first, admin: { token: adminToken }, env: { ADMIN_PORT: String(adminPort) } })
  t.teardown(() => tokenService.stop())

  const user = await first.signUp()
  const exchanged = await exchange(tokenService.url, user.jwt)
  t.equal(exchanged.status, 200, 'exchange')
  let current = exchanged.body.refresh_token!

  const revoked = await fetch(`${first.url}/api/auth/revoke-sessions`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'http://localhost:8080', cookie: user.cookie }, body: '{}' })
  t.equal(revoked.status, 200, 'BetterAuth revoked every session of the user')

  const refusedLine = (line: string) => line.includes('"event":"session_event_delivery_failed"') && line.includes('"status":401') && line.includes('"level":50')
  t.ok((await within(5000, async () => first.lines.some(refusedLine))) >= 0, 'the refused token is logged as an error')
  const still = await refresh(tokenService.url, current)
  t.equal(still.status, 200, 'undelivered: the session still refreshes')
  current = still.body.refresh_token!
  await first.close()

  const second = await startIdentity({ embedded: true, env: identityEnv(adminToken) })
  t.teardown(() => second.close())
  // The retry is due at most 10 s (the longest backoff) after the last failure, plus a 15 s lease
  // when the first process stopped in the middle of an attempt.
  const ended = await within(30_000, async () => {
    const reply = await refresh(tokenService.url, current)
    if (reply.status === 200) current = reply.body.refresh_token!
    return reply.status === 400 && reply.body.error === 'invalid_grant'
  })
  t.ok(ended >= 0, `the next identity delivered it: refresh answers invalid_grant (${Math.round(ended)} ms after its start)`)
  t.ok((await within(2000, async () => second.lines.some((line) => line.includes('"event":"session_event_delivered"') && line.includes(`"sub":"${user.userId}"`)))) >= 0, 'delivery logged by the second process')
  t.notOk(
    [...first.lines, ...second.lines].some((line) => line.includes(adminToken) || line.includes(wrongToken)),
    'neither admin token appears in a log line',
  )
})
