import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { createTestRedisPrefix, testRedisUrl } from '@todo-auth/testkit'
import { buildApp, type Deps, type TokenService } from '../../src/app.ts'
import { loadConfig, type Config } from '../../src/config.ts'

/** The slice of tap's Test this helper needs. */
interface TestLike {
  teardown(fn: () => unknown): void
}

/** A test clock: starts at the real time and only moves when told. */
export function testClock(start = Date.now()) {
  let now = start
  return {
    now: () => now,
    advance(ms: number) {
      now += ms
    },
    set(ms: number) {
      now = ms
    },
  }
}

export interface Built extends TokenService {
  config: Config
  redis: Redis | null
  prefix: string
}

/**
 * Builds token-service for one test: its own Redis key prefix (cleaned up
 * after), a fresh key-encryption key and admin token, and any env overrides.
 * `store: 'memory'` builds it on the in-process store instead of Redis.
 */
export async function build(t: TestLike, env: Record<string, string | undefined> = {}, options: { store?: 'redis' | 'memory'; deps?: Deps } = {}): Promise<Built> {
  const store = options.store ?? 'redis'
  const { prefix, cleanup } = createTestRedisPrefix('ts-test')
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    ADMIN_TOKEN: randomBytes(32).toString('base64url'),
    KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    REDIS_URL: store === 'redis' ? testRedisUrl : undefined,
    REDIS_PREFIX: prefix,
    ...env,
  })
  let redis: Redis | null = null
  if (store === 'redis' && options.deps?.redis === undefined) {
    redis = new Redis(config.REDIS_URL!, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 })
    await redis.connect()
  }
  let service: TokenService
  try {
    service = await buildApp(config, { ...options.deps, ...(redis ? { redis } : {}) })
  } catch (error) {
    // Without this the open Redis connection keeps the test process alive until tap's timeout.
    redis?.disconnect()
    await cleanup()
    throw error
  }
  t.teardown(async () => {
    await service.close()
    await cleanup()
    redis?.disconnect()
  })
  return { ...service, config, redis, prefix }
}
