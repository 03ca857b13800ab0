import { readFileSync } from 'node:fs'
import { Cluster, Redis, type RedisOptions } from 'ioredis'
import type { RedisConfig } from '../config.ts'

/** One node, a Redis Cluster or a Sentinel-watched master: every store takes any of them. */
export type RedisClient = Redis | Cluster

const reconnect = (attempt: number) => Math.min(50 * 2 ** attempt, 1000)

/** Clients being closed on purpose (closeRedisClient): the only ones left ended. */
const closedOnPurpose = new WeakSet<RedisClient>()

/**
 * ioredis can end a client for good on its own: a disconnect that lands
 * while the client is asking the sentinels for the master (the
 * failoverDetector's, on a +switch-master published while the client was
 * reconnecting) makes that connect fail with "Connection is closed.", and
 * the client goes to status `end`, which it never leaves (redis/ioredis#1683).
 * redis-sentinel.test.ts saw it under load: Sentinel had failed over in
 * 1.2 s, and token-service answered 503 for as long as the test ran. An
 * `end` that nobody asked for is reconnected here, with the same back-off.
 */
function reconnectWhenEnded(client: RedisClient): RedisClient {
  let attempts = 0
  client.on('ready', () => {
    attempts = 0
  })
  client.on('end', () => {
    if (closedOnPurpose.has(client)) return
    attempts += 1
    setTimeout(() => {
      if (!closedOnPurpose.has(client) && client.status === 'end') client.connect().catch(() => undefined)
    }, reconnect(attempts)).unref()
  })
  return client
}

/** Closes a client of createRedisClient or createSubscriber for good (it is not reconnected). */
export function closeRedisClient(client: RedisClient): void {
  closedOnPurpose.add(client)
  client.disconnect()
}

/**
 * How long a connection may owe a reply before it is taken for hung: the
 * deadline less 250 ms (at least half of it), and longer than a WAIT for
 * replicas may legitimately block it; the slack keeps an event-loop stall
 * from passing for a hang. Always below the deadline (config.ts keeps
 * REDIS_REQUEST_DEADLINE at least REDIS_WAIT_TIMEOUT + 400 ms), so the
 * connection is dropped before the first command times out and the
 * request's next command fails at once.
 */
export function hangDetectionMs(target: Pick<RedisConfig, 'requestDeadlineMs' | 'waitReplicas' | 'waitTimeoutMs'>): number {
  const deadline = target.requestDeadlineMs
  const ownReplies = Math.max(Math.floor(deadline / 2), deadline - 250)
  return target.waitReplicas > 0 ? Math.max(ownReplies, target.waitTimeoutMs + 250) : ownReplies
}

/**
 * A Redis client that fails fast while Redis is away (no offline queue, one
 * try per command) so requests get a quick 503 instead of hanging, and that
 * reconnects by itself so the service recovers when Redis returns. A Redis
 * that hangs with its socket open is bounded by REDIS_REQUEST_DEADLINE: no
 * command waits longer (commandTimeout), and a connection that owes a reply
 * for hangDetectionMs (shorter) is dropped (socketTimeout), so every command
 * sent after that fails at once (no offline queue) instead of each waiting
 * in turn: a request costs one deadline at most, however many commands it
 * sends. ioredis
 * does the cluster routing (MOVED/ASK, slot refresh) and the Sentinel
 * discovery (failoverDetector: a +switch-master reconnects at once); a
 * client that ioredis ends by itself is reconnected (reconnectWhenEnded).
 * Commands are written as they are issued, not auto-pipelined: ioredis 6's
 * auto-pipelining (a Pipeline and a setImmediate per batch) cost more CPU per
 * refresh and exchange than the socket writes it saves (docs/performance.md).
 * Close it with closeRedisClient.
 */
export function createRedisClient(target: RedisConfig, options: { connectionName?: string } = {}): RedisClient {
  const tls = target.tls ? { ...(target.tlsCaFile ? { ca: readFileSync(target.tlsCaFile) } : {}) } : undefined
  const node = {
    connectionName: options.connectionName ?? 'token-service',
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: target.requestDeadlineMs,
    socketTimeout: hangDetectionMs(target),
    // A master demoted by a failover answers writes with READONLY: find the new one at once (the
    // command fails, 503, and is not sent again: the client retries).
    reconnectOnError: (error: Error) => error.message.startsWith('READONLY'),
    ...(target.username ? { username: target.username } : {}),
    ...(target.password ? { password: target.password } : {}),
    ...(tls ? { tls } : {}),
  } satisfies RedisOptions
  if (target.mode === 'cluster') {
    return reconnectWhenEnded(
      new Cluster(
        target.nodes.map(({ host, port }) => ({ host, port })),
        {
          lazyConnect: true,
          enableOfflineQueue: false,
          enableAutoPipelining: false,
          clusterRetryStrategy: reconnect,
          // During a failover or resharding a command is retried on the new owner this soon.
          retryDelayOnFailover: 100,
          retryDelayOnClusterDown: 100,
          retryDelayOnTryAgain: 100,
          slotsRefreshTimeout: 2000,
          redisOptions: node,
        },
      ),
    )
  }
  const common = { ...node, lazyConnect: true, enableOfflineQueue: false, enableAutoPipelining: false, retryStrategy: reconnect } satisfies RedisOptions
  if (target.mode === 'sentinel') {
    return reconnectWhenEnded(
      new Redis({
        ...common,
        sentinels: target.sentinels.map(({ host, port }) => ({ host, port })),
        name: target.name,
        failoverDetector: true,
        sentinelRetryStrategy: reconnect,
        ...(target.sentinelPassword ? { sentinelPassword: target.sentinelPassword } : {}),
        ...(tls ? { sentinelTLS: tls, enableTLSForSentinelMode: true } : {}),
      }),
    )
  }
  return reconnectWhenEnded(new Redis(target.url, common))
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
    return reconnectWhenEnded(
      client.duplicate([], {
        lazyConnect: true,
        enableOfflineQueue: true,
        redisOptions: { ...client.options.redisOptions, connectionName, maxRetriesPerRequest: null },
      }),
    )
  }
  return reconnectWhenEnded(client.duplicate({ lazyConnect: true, enableOfflineQueue: true, maxRetriesPerRequest: null, connectionName }))
}

/**
 * PING for readiness, given up after `timeoutMs`: a probe must answer well
 * before the orchestrator's own timeout even while Redis hangs undetected.
 */
export async function pingWithin(client: RedisClient, timeoutMs: number): Promise<boolean> {
  if (client.status !== 'ready') return false
  let timer: NodeJS.Timeout | undefined
  const gaveUp = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs)
  })
  try {
    return await Promise.race([
      client.ping().then(
        () => true,
        () => false,
      ),
      gaveUp,
    ])
  } finally {
    clearTimeout(timer)
  }
}
