// REDIS_WAIT_REPLICAS refuses a write no replica acknowledged: the machine's
// Redis has no replica, so with one required every state change answers
// StoreUnavailableError (503) after the wait, and nothing is answered as done.
// (redis-sentinel.test.ts shows the same setting passing with real replicas.)
import { Redis } from 'ioredis'
import t from 'tap'
import { createTestRedisPrefix, testRedisUrl } from '@todo-auth/testkit'
import { StoreUnavailableError } from '../../src/errors.ts'
import { createRedisKeyStore } from '../../src/keys/redis-key.store.ts'
import { createRedisSessionStore } from '../../src/sessions/redis-session.store.ts'
import { createSessionService } from '../../src/sessions/session.service.ts'
import { testClock } from '../helpers/build.ts'

const { prefix, cleanup } = createTestRedisPrefix('ts-wait')
const redis = new Redis(testRedisUrl, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 })
await redis.connect()
t.teardown(async () => {
  await cleanup()
  redis.disconnect()
})
const durability = { replicas: 1, timeoutMs: 50 }
const quiet = { debug() {}, info() {}, warn() {}, error() {}, fatal() {}, trace() {}, child: () => quiet } as never

t.test('a session write no replica acknowledged is refused after REDIS_WAIT_TIMEOUT', async (t) => {
  const clock = testClock()
  const store = createRedisSessionStore(redis, { idleMs: 86_400_000, graceMs: 10_000, prefix, clock, durability })
  const sessions = createSessionService({ store, clock, absoluteTtlSeconds: 86_400 })
  const started = performance.now()
  const attempt = sessions.start({ identity: { sub: 'wait-1', email: 'w@example.com', roles: ['user'] }, clientId: 'cli', scope: ['todos:read'], audience: 'todo-api', userAgent: null })
  await t.rejects(attempt, StoreUnavailableError, 'the exchange would answer 503 temporarily_unavailable')
  const took = performance.now() - started
  t.ok(took >= 45 && took < 1000, `after waiting about REDIS_WAIT_TIMEOUT (${took.toFixed(0)} ms)`)
})

t.test('a key-set change no replica acknowledged is refused too, and without the setting it goes through', async (t) => {
  const now = Date.now()
  const key = (kid: string) => ({ kid, alg: 'ES256' as const, material: { publicJwk: { kty: 'EC', kid } as never, sealedPrivateKey: 'sealed' } })
  const waiting = createRedisKeyStore({ redis, prefix, log: quiet, durability })
  await t.rejects(waiting.ensure({ current: key('k1'), next: key('k2') }, now), StoreUnavailableError)
  const plain = createRedisKeyStore({ redis, prefix: `${prefix}plain:`, log: quiet })
  t.same((await plain.ensure({ current: key('k3'), next: key('k4') }, now)).created, ['k3', 'k4'], 'REDIS_WAIT_REPLICAS=0: no wait')
})
