import { Cluster } from 'ioredis'
import { StoreUnavailableError } from '../errors.ts'
import type { RedisClient } from './redis-client.ts'

/** REDIS_WAIT_REPLICAS / REDIS_WAIT_TIMEOUT: how many replicas must hold a write before it is answered. */
export interface Durability {
  readonly replicas: number
  readonly timeoutMs: number
}

/**
 * After a write: resolves once `durability.replicas` replicas acknowledged
 * every write this client has sent so far (Redis WAIT), and throws
 * StoreUnavailableError (503, safe to retry) when fewer did in time. A
 * failover promotes the replica with the most data, so an answered write
 * survives it. On a Cluster every master is asked, over the same connection
 * that carried the writes (ioredis keeps one per node): one round trip per
 * master, in parallel, however many keys the write touched.
 */
export async function replicated(client: RedisClient, durability: Durability | undefined): Promise<void> {
  if (!durability || durability.replicas === 0) return
  const { replicas, timeoutMs } = durability
  const nodes = client instanceof Cluster ? client.nodes('master') : [client]
  const acknowledged = await Promise.all(nodes.map((node) => node.wait(replicas, timeoutMs)))
  const fewest = Math.min(...acknowledged)
  if (fewest < replicas) throw new StoreUnavailableError(new Error(`write acknowledged by ${fewest} of ${replicas} replicas within ${timeoutMs} ms`))
}
