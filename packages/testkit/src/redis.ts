import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'

/** The machine's Redis; TEST_REDIS_URL overrides it. */
export const testRedisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0'

export interface TestRedisPrefix {
  /** A key prefix unique to this test file, ending in ':'. */
  prefix: string
  /** Deletes every key under the prefix (SCAN, never KEYS or FLUSHDB: Redis is shared). */
  cleanup(): Promise<void>
}

export function createTestRedisPrefix(label = 't'): TestRedisPrefix {
  const prefix = `${label}:${randomBytes(6).toString('hex')}:`
  return {
    prefix,
    async cleanup() {
      const redis = new Redis(testRedisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 })
      await redis.connect()
      try {
        let cursor = '0'
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500)
          cursor = next
          if (keys.length > 0) await redis.del(...keys)
        } while (cursor !== '0')
      } finally {
        redis.disconnect()
      }
    },
  }
}
