import { readFileSync } from 'node:fs'
import { Cluster, Redis, type RedisOptions } from 'ioredis'
import type { RedisConfig } from '../config.ts'

/** One node, a Redis Cluster or a Sentinel-watched master: every store takes any of them. */
export type RedisClient = Redis | Cluster

const reconnect = (attempt: number) => Math.min(50 * 2 ** attempt, 1000)

/**
 * A Redis client that fails fast while Redis is away (no offline queue, one
 * try per command) so requests get a quick 503 instead of hanging, and that
 * reconnects by itself so the service recovers when Redis returns. ioredis
 * does the cluster routing (MOVED/ASK, slot refresh) and the Sentinel
 * discovery (failoverDetector: a +switch-master reconnects at once).
 */
export function createRedisClient(target: RedisConfig, options: { connectionName?: string } = {}): RedisClient {
  const tls = target.tls ? { ...(target.tlsCaFile ? { ca: readFileSync(target.tlsCaFile) } : {}) } : undefined
  const node = {
    connectionName: options.connectionName ?? 'token-service',
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 2000,
    ...(target.username ? { username: target.username } : {}),
    ...(target.password ? { password: target.password } : {}),
    ...(tls ? { tls } : {}),
  } satisfies RedisOptions
  if (target.mode === 'cluster') {
    return new Cluster(
      target.nodes.map(({ host, port }) => ({ host, port })),
      {
        lazyConnect: true,
        enableOfflineQueue: false,
        enableAutoPipelining: true,
        clusterRetryStrategy: reconnect,
        // During a failover or resharding a command is retried on the new owner this soon.
        retryDelayOnFailover: 100,
        retryDelayOnClusterDown: 100,
        retryDelayOnTryAgain: 100,
        slotsRefreshTimeout: 2000,
        redisOptions: node,
      },
    )
  }
  const common = { ...node, lazyConnect: true, enableOfflineQueue: false, enableAutoPipelining: true, retryStrategy: reconnect } satisfies RedisOptions
  if (target.mode === 'sentinel') {
    return new Redis({
      ...common,
      sentinels: target.sentinels.map(({ host, port }) => ({ host, port })),
      name: target.name,
      failoverDetector: true,
      sentinelRetryStrategy: reconnect,
      ...(target.sentinelPassword ? { sentinelPassword: target.sentinelPassword } : {}),
      ...(tls ? { sentinelTLS: tls, enableTLSForSentinelMode: true } : {}),
    })
  }
  return new Redis(target.url, common)
}

/**
 * A second connection of the same kind for SUBSCRIBE (a subscribed
 * connection can run nothing else). Unlike the command client it queues
 * while disconnected and retries for ever: a subscription must come back.
 * On a Cluster, classic pub/sub reaches every node's subscribers whichever
 * node published, and ioredis moves the subscription when its node fails.
 */
export function createSubscriber(client: RedisClient, connectionName: string): RedisClient {
  if (client instanceof Cluster) {
    return client.duplicate([], {
      lazyConnect: true,
      enableOfflineQueue: true,
      redisOptions: { ...client.options.redisOptions, connectionName, maxRetriesPerRequest: null },
    })
  }
  return client.duplicate({ lazyConnect: true, enableOfflineQueue: true, maxRetriesPerRequest: null, connectionName })
}
