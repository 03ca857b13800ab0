import t from 'tap'
import { randomBytes } from 'node:crypto'
import { createTestRedisPrefix, startIdentity } from '@todo-auth/testkit'
import { build, testClock } from '../helpers/build.ts'
import { exchange, identityEnv } from '../grants/helpers.ts'

// SUBJECT_TOKEN_MAX_EXCHANGES (issue 17): one BetterAuth JWT was exchanged 3,000 times in 4 s.
const identity = await startIdentity()
t.teardown(() => identity.close())

for (const store of ['redis', 'memory'] as const) {
  t.test(`${store}: a BetterAuth JWT is exchanged at most SUBJECT_TOKEN_MAX_EXCHANGES times`, async (t) => {
    const app = await build(t, { ...identityEnv(identity), RATE_LIMIT_MAX: '100000' }, { store })
    const user = await identity.signUp()
    const statuses = []
    for (let i = 0; i < 4; i++) statuses.push((await exchange(app.publicApp, user.jwt)).statusCode)
    t.same(statuses, [200, 200, 200, 400], 'the default allows 3')
    const refused = await exchange(app.publicApp, user.jwt)
    t.same(refused.json(), { error: 'invalid_grant', error_description: 'the subject token is invalid' }, 'the generic invalid_grant of a bad subject token')
    const other = await identity.signUp()
    t.equal((await exchange(app.publicApp, other.jwt)).statusCode, 200, 'another user’s JWT is counted on its own')
  })
}

t.test('the count is shared by every instance on one Redis', async (t) => {
  const clock = testClock()
  const redis = createTestRedisPrefix('ts-replay')
  t.teardown(() => redis.cleanup())
  const env = { ...identityEnv(identity), RATE_LIMIT_MAX: '100000', SUBJECT_TOKEN_MAX_EXCHANGES: '1', REDIS_PREFIX: redis.prefix, KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex') }
  const one = await build(t, env, { deps: { clock } })
  const two = await build(t, env, { deps: { clock } })
  const user = await identity.signUp()
  t.equal((await exchange(one.publicApp, user.jwt)).statusCode, 200)
  t.equal((await exchange(two.publicApp, user.jwt)).statusCode, 400, 'a replay on another instance is refused too')
})

t.test('the memory counter forgets a token once it has expired', async (t) => {
  const { createMemoryExchangeCounter } = await import('../../src/better-auth/subject-token-replay.ts')
  const clock = testClock()
  const counter = createMemoryExchangeCounter(clock)
  t.equal(await counter.count('a', 1000), 1)
  t.equal(await counter.count('a', 1000), 2)
  t.equal(await counter.count('b', 1000), 1, 'counted per token')
  clock.advance(1000)
  t.equal(await counter.count('a', 1000), 1, 'a new lifetime after expiry')
  clock.advance(60_000)
  t.equal(await counter.count('a', 1000), 1, 'swept')
})
