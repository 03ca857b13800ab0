import t, { type Test } from 'tap'
import { cli, exchange, freePort, refresh, spawnTokenService, startIdentity, startRedisServer, within } from '@todo-auth/testkit'

// A Redis that is up but refuses writes for now, as one does around a failover: a master demoted to
// a replica answers READONLY, a master configured with min-replicas-to-write and no replica answers
// NOREPLICAS. token-service must answer 503 `temporarily_unavailable` with Retry-After (the client
// retries), never 500, and work again once Redis takes writes.

const identity = await startIdentity()
t.teardown(() => identity.close())
const redis = await startRedisServer()
t.teardown(() => redis.stop())
const service = await spawnTokenService({ identity, redisPrefix: 'ts-refuses:', redisUrl: redis.url, env: { RATE_LIMIT_MAX: '10000', LOG_LEVEL: 'warn' } })
t.teardown(() => service.stop())
const base = service.url

/** Exchange and refresh both answer 503 temporarily_unavailable with Retry-After. */
async function refused(t: Test, jwt: string, refreshToken: string, why: string): Promise<void> {
  for (const [name, reply] of [
    ['exchange', await exchange(base, jwt)],
    ['refresh', await refresh(base, refreshToken)],
  ] as const) {
    t.equal(reply.status, 503, `${why}: ${name} is 503 (${reply.body.error ?? 'no error'})`)
    t.equal(reply.body.error, 'temporarily_unavailable', `${why}: ${name} says temporarily_unavailable`)
    t.ok(Number(reply.retryAfter) > 0, `${why}: ${name} has Retry-After`)
  }
}

t.test('READONLY and NOREPLICAS are 503 temporarily_unavailable, and service comes back', async (t) => {
  const user = await identity.signUp()
  const first = await exchange(base, user.jwt)
  t.equal(first.status, 200, 'exchange works while Redis takes writes')
  let refreshToken = first.body.refresh_token!

  // A replica of a master that is not there: it keeps its data and refuses every write.
  const nowhere = await freePort()
  t.equal(await cli(redis.port, 'REPLICAOF', '127.0.0.1', String(nowhere)), 'OK')
  await refused(t, user.jwt, refreshToken, 'READONLY (a demoted master)')
  t.equal(await cli(redis.port, 'REPLICAOF', 'NO', 'ONE'), 'OK')
  t.not(await within(10_000, async () => (await exchange(base, user.jwt)).status === 200), -1, 'exchange works again once it is a master')

  t.equal(await cli(redis.port, 'CONFIG', 'SET', 'min-replicas-to-write', '1'), 'OK')
  t.teardown(() => cli(redis.port, 'CONFIG', 'SET', 'min-replicas-to-write', '0'))
  await refused(t, user.jwt, refreshToken, 'NOREPLICAS (min-replicas-to-write 1, no replica)')
  t.equal(await cli(redis.port, 'CONFIG', 'SET', 'min-replicas-to-write', '0'), 'OK')

  const again = await refresh(base, refreshToken)
  t.equal(again.status, 200, 'the refresh token refused meanwhile still rotates: nothing was spent')
  refreshToken = again.body.refresh_token!
  t.equal((await refresh(base, refreshToken)).status, 200, 'and its successor rotates')
})
