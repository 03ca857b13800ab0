// Issue 17: forced key rotations faster than todo-api's JWKS cooldown. Real identity, real
// token-service and a real todo-api process on its defaults (JWKS_COOLDOWN_MS 5 s): a fresh token
// after each rotation is accepted as soon as its kid is published, never answered 401.
import { resolve } from 'node:path'
import t from 'tap'
import { admin, createTestRedisPrefix, createTestSchema, exchange, kidOf, publishedKids, repeatedExchangesEnv, sleep, spawnService, spawnTokenService, startIdentity } from '@todo-auth/testkit'

t.test('forced rotations 0.4 s apart: every fresh token whose kid is published is accepted', async (t) => {
  const identity = await startIdentity()
  t.teardown(() => identity.close())
  const redis = createTestRedisPrefix('t-todo-rot')
  t.teardown(() => redis.cleanup())
  const tokenService = await spawnTokenService({ redisPrefix: redis.prefix, identity, admin: true, env: { ...repeatedExchangesEnv, LOG_LEVEL: 'warn' } })
  t.teardown(() => tokenService.stop())
  const schema = await createTestSchema('t_todo_rot')
  t.teardown(() => schema.drop())
  const todoApi = await spawnService({
    entry: resolve(import.meta.dirname, '../src/server.ts'),
    env: { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', DATABASE_URL: schema.url, TOKEN_SERVICE_JWKS_URL: tokenService.jwksUrl, JWKS_COOLDOWN_MS: undefined },
  })
  t.teardown(() => todoApi.stop())
  const user = await identity.signUp()

  const refused: string[] = []
  const kids = new Set<string>()
  for (let i = 0; i < 8; i++) {
    const rotated = await admin(tokenService.adminUrl!, tokenService.adminToken!, 'POST', '/admin/keys/rotate?force=true')
    t.equal(rotated.status, 200, `rotation ${i + 1}`)
    const made = await exchange(tokenService.url, await identity.getJwt(user.cookie))
    t.equal(made.status, 200)
    const token = made.body.access_token!
    kids.add(kidOf(token))
    t.ok((await publishedKids(tokenService.url)).includes(kidOf(token)), 'the token is signed with a published key')
    const listed = await fetch(`${todoApi.url}/todos`, { headers: { authorization: `Bearer ${token}` } })
    await listed.arrayBuffer()
    if (listed.status !== 200) refused.push(`rotation ${i + 1}: ${listed.status}`)
    await sleep(400)
  }
  t.equal(kids.size, 8, 'each rotation signed with a new key')
  t.same(refused, [], 'no 401 for a token whose kid is in the JWKS')
})
