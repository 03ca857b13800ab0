import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { createTestRedisPrefix, testRedisUrl } from '@todo-auth/testkit'
import { buildApp, type Deps, type TokenService } from '../../src/app.ts'
import { loadConfig, type Config } from '../../src/config.ts'
import type { KeyLifecycle } from '../../src/keys/key-manager.ts'

interface TestLike {
  teardown(fn: () => unknown): void
}

export interface FleetMember extends TokenService {
  lifecycle: KeyLifecycle
}

/**
 * Several token-service instances on one Redis prefix (a fleet), each with
 * its own Redis connection, sharing KEY_ENCRYPTION_KEY. Everything is closed
 * before the prefix is cleaned, so no instance re-creates keys afterwards.
 */
export async function fleet(t: TestLike, size: number, env: Record<string, string> = {}, deps: Omit<Deps, 'redis'> = {}) {
  const { prefix, cleanup } = createTestRedisPrefix('ts-fleet')
  const config: Config = loadConfig({
    LOG_LEVEL: 'silent',
    ADMIN_TOKEN: randomBytes(32).toString('base64url'),
    KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    REDIS_URL: testRedisUrl,
    REDIS_PREFIX: prefix,
    ...env,
  })
  const members: FleetMember[] = []
  const clients: Redis[] = []
  const add = async (overrides: Partial<Config> = {}): Promise<FleetMember> => {
    const redis = new Redis(testRedisUrl, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 })
    clients.push(redis)
    await redis.connect()
    const service = await buildApp(Object.freeze({ ...config, ...overrides }), { ...deps, redis })
    const member = { ...service, lifecycle: service.keys as KeyLifecycle }
    members.push(member)
    return member
  }
  const initial = await Promise.all(Array.from({ length: size }, () => add()))
  const admin = new Redis(testRedisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 })
  await admin.connect()
  clients.push(admin)
  t.teardown(async () => {
    await Promise.all(members.map((m) => m.close()))
    await cleanup()
    for (const c of clients) c.disconnect()
  })
  return { members: initial, add, config, prefix, redis: admin }
}
