import { Redis } from 'ioredis'

/**
 * A Redis client that fails fast while Redis is away (no offline queue, one
 * try per command) so requests get a quick 503 instead of hanging, and that
 * reconnects by itself so the service recovers when Redis returns.
 */
export function createRedisClient(url: string, options: { connectionName?: string } = {}): Redis {
  return new Redis(url, {
    connectionName: options.connectionName ?? 'token-service',
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 2000,
    lazyConnect: true,
    enableAutoPipelining: true,
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 1000),
  })
}
