import type { Test } from 'tap'
import { Redis } from 'ioredis'
import { createTestRedisPrefix, testRedisUrl } from '@todo-auth/testkit'
import { createMemorySessionStore } from '../../src/sessions/memory-session.store.ts'
import { createRedisSessionStore } from '../../src/sessions/redis-session.store.ts'
import { createSessionService, type SessionService } from '../../src/sessions/session.service.ts'
import type { SessionStore } from '../../src/sessions/session.store.ts'
import { testClock } from '../helpers/build.ts'

// One suite, run against both implementations: they must behave the same (issue 2 item 5).
// The suite is split by topic over session.store.*.test.ts; this is their shared fixture.

export const day = 86_400_000
export const policy = { idleMs: 3 * day, graceMs: 10_000 }
export const absoluteTtlSeconds = 7 * 86_400

export interface Fixture {
  store: SessionStore
  service: SessionService
  clock: ReturnType<typeof testClock>
  redis: Redis | null
  prefix: string
}

export const kinds = ['redis', 'memory'] as const
export type Kind = (typeof kinds)[number]

export async function fixture(t: Test, kind: Kind, overrides: Partial<typeof policy & { maxPerUser: number }> = {}): Promise<Fixture> {
  const clock = testClock()
  const settings = { ...policy, ...overrides }
  if (kind === 'memory') {
    const store = createMemorySessionStore(settings, clock)
    return { store, service: createSessionService({ store, clock, absoluteTtlSeconds }), clock, redis: null, prefix: '' }
  }
  const { prefix, cleanup } = createTestRedisPrefix('ts-sess')
  const redis = new Redis(testRedisUrl, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 })
  await redis.connect()
  t.teardown(async () => {
    await cleanup()
    redis.disconnect()
  })
  const store = createRedisSessionStore(redis, { ...settings, prefix, clock })
  return { store, service: createSessionService({ store, clock, absoluteTtlSeconds }), clock, redis, prefix }
}

export const identity = (sub = 'user-1') => ({ sub, email: `${sub}@example.com`, roles: ['user'] })
export const startInput = (sub = 'user-1', clientId = 'cli') => ({
  identity: identity(sub),
  clientId,
  scope: ['todos:read', 'todos:write'],
  audience: 'todo-api',
  userAgent: 'test-agent/1.0',
})

export async function rejectsWith(t: Test, promise: Promise<unknown>, type: new (...args: never[]) => Error, message: string) {
  try {
    await promise
    t.fail(`${message}: expected ${type.name}`)
  } catch (error) {
    t.type(error, type, message)
  }
}
