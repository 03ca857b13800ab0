// Two token-service processes on a real 3-master Redis Cluster (plus one
// replica each, so WAIT has someone to wait for), started from redis-server
// binaries once for this file: sessions, rotation, reuse detection, key
// rotation and revocation, and the shared rate limit all hold across them.
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { admin, cli, exchange, kidOf, publishedKids, refresh, revoke, sleep, spawnTokenService, startIdentity, startRedisCluster, within, repeatedExchangesEnv } from '@todo-auth/testkit'

const cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 })
t.teardown(() => cluster.stop())
const identity = await startIdentity()
t.teardown(() => identity.close())

const adminToken = randomBytes(32).toString('base64url')
const RATE_LIMIT_MAX = 60
const env = {
  ...repeatedExchangesEnv,
  LOG_LEVEL: 'warn',
  REDIS_CLUSTER_NODES: cluster.seeds,
  REDIS_WAIT_REPLICAS: '1',
  REDIS_PREFIX: 'ts:',
  // One key set shared by both instances: one encryption key.
  KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
  ADMIN_RATE_LIMIT_MAX: '10000',
  RATE_LIMIT_MAX: String(RATE_LIMIT_MAX),
  RATE_LIMIT_WINDOW: '600',
  REFRESH_REUSE_GRACE: '1',
}
const [a, b] = await Promise.all([0, 1].map(() => spawnTokenService({ identity, admin: { token: adminToken }, env })))
t.teardown(() => Promise.all([a!.stop(), b!.stop()]))
const user = await identity.signUp()

// POST /oauth/token requests from this test's one IP, counted against the shared limit (tested last;
// @fastify/rate-limit keeps one counter per route).
let tokenRequests = 0
const counted = <T>(reply: Promise<T>) => {
  tokenRequests++
  return reply
}

t.test('a session made on one instance refreshes on the other, and reuse after the grace window ends it everywhere', async (t) => {
  const first = await counted(exchange(a!.url, user.jwt))
  t.equal(first.status, 200, 'exchange on A')
  const second = await counted(refresh(b!.url, first.body.refresh_token!))
  t.equal(second.status, 200, 'refresh on B')
  const third = await counted(refresh(a!.url, second.body.refresh_token!))
  t.equal(third.status, 200, 'refresh on A again')
  t.not(third.body.refresh_token, second.body.refresh_token, 'every refresh rotates')

  const repeat = await counted(refresh(b!.url, second.body.refresh_token!))
  t.equal(repeat.status, 200, 'a repeat inside the grace window succeeds')
  t.equal(repeat.body.refresh_token, third.body.refresh_token, '... with the same successor: one chain')

  await sleep(1100)
  const reused = await counted(refresh(b!.url, first.body.refresh_token!))
  t.equal(reused.status, 400)
  t.equal(reused.body.error, 'invalid_grant', 'a spent token after the grace window is refused')
  const newest = await counted(refresh(a!.url, third.body.refresh_token!))
  t.equal(newest.body.error, 'invalid_grant', 'and the whole session ended, the newest token included')
})

t.test('sessions are listed, ended one by one, by revocation and by the admin, across instances', async (t) => {
  const made = []
  for (let i = 0; i < 4; i++) made.push(await counted(exchange(i % 2 ? a!.url : b!.url, user.jwt)))
  for (const reply of made) t.equal(reply.status, 200)
  const auth = { authorization: `Bearer ${made[0]!.body.access_token}` }
  const list = (await (await fetch(`${a!.url}/sessions`, { headers: auth })).json()) as { id: string; current: boolean }[]
  t.ok(list.length >= 4, 'GET /sessions on A lists the sessions made on both')
  const other = list.find((s) => !s.current)!
  t.equal((await fetch(`${b!.url}/sessions/${other.id}`, { method: 'DELETE', headers: auth })).status, 204, 'DELETE /sessions/{id} on B')
  const after = (await (await fetch(`${a!.url}/sessions`, { headers: auth })).json()) as { id: string }[]
  t.notOk(
    after.some((s) => s.id === other.id),
    'the ended session is gone on A',
  )

  t.equal((await revoke(b!.url, made[1]!.body.refresh_token!)).status, 200, 'revoke on B (its own rate-limit counter: limits are per route)')
  t.equal((await counted(refresh(a!.url, made[1]!.body.refresh_token!))).body.error, 'invalid_grant', 'the revoked session cannot refresh on A')

  const ended = await admin(b!.adminUrl!, adminToken, 'DELETE', `/admin/users/${encodeURIComponent(user.userId)}/sessions`)
  t.equal(ended.status, 204, 'the admin ends every session of the user on B')
  for (const reply of made.slice(2)) t.equal((await counted(refresh(a!.url, reply.body.refresh_token!))).body.error, 'invalid_grant')
})

t.test('the keys spread over every master: sessions are not all on one slot', async (t) => {
  for (let i = 0; i < 12; i++) await counted(exchange(a!.url, user.jwt))
  const sizes = await Promise.all(cluster.masters.map(async (m) => Number(await cli(m.port, 'DBSIZE'))))
  t.ok(
    sizes.every((n) => n > 0),
    `every master holds keys (${sizes.join(', ')})`,
  )
})

t.test('a rotation or a revocation on one instance reaches the other within 1 s (pub/sub across the cluster)', async (t) => {
  const rotated = await admin(a!.adminUrl!, adminToken, 'POST', '/admin/keys/rotate?force=true')
  t.equal(rotated.status, 200)
  const { current, next } = rotated.body as { current: string; next: string }
  const seenMs = await within(1000, async () => {
    const reply = await counted(exchange(b!.url, user.jwt))
    return reply.status === 200 && kidOf(reply.body.access_token!) === current
  })
  t.ok(seenMs >= 0, `B signs with the new current key ${seenMs.toFixed(0)} ms after A rotated`)
  t.ok((await publishedKids(b!.url)).includes(next), 'B publishes the new next key')

  const revoked = await admin(b!.adminUrl!, adminToken, 'POST', `/admin/keys/${current}/revoke`)
  t.equal(revoked.status, 200)
  const goneMs = await within(1000, async () => !(await publishedKids(a!.url)).includes(current))
  t.ok(goneMs >= 0, `A stops publishing the revoked key ${goneMs.toFixed(0)} ms after B revoked it`)
  const keys = (await admin(a!.adminUrl!, adminToken, 'GET', '/admin/keys')).body as { state: string }[]
  t.equal(keys.filter((k) => k.state === 'current').length, 1, 'one current key')
  t.equal(keys.filter((k) => k.state === 'next').length, 1, 'one next key')
})

t.test('the rate limit is one budget shared by both instances', async (t) => {
  let limitedAt = -1
  for (let i = 0; tokenRequests + i < RATE_LIMIT_MAX * 2 + 5; i++) {
    const reply = await exchange(i % 2 ? a!.url : b!.url, user.jwt)
    if (reply.status === 429) {
      limitedAt = tokenRequests + i
      t.ok(Number(reply.retryAfter) > 0, 'with Retry-After')
      break
    }
    t.equal(reply.status, 200)
  }
  t.equal(limitedAt, RATE_LIMIT_MAX, `request ${RATE_LIMIT_MAX + 1} from one address is refused, whichever instance takes it`)
})
