import { randomBytes } from 'node:crypto'
import { createTestRedisPrefix, startIdentity, startRedisCluster, type SpawnedTokenService } from '@todo-auth/testkit'
import type { LoadResult } from './load.ts'
import { spawnBenchTokenService, tokenServiceLoad } from './services.ts'

interface ClusterRow extends LoadResult {
  name: string
  cpuUsPerReq: number | null
  baseline: string
  ratio: number
}

/**
 * BENCH_ONLY=cluster: exchange and refresh req/s of one token-service on a real 3-master Redis
 * Cluster (redis-server processes on loopback, as the tests start them), as a ratio to the same
 * service on the machine's single Redis node, measured back to back in this run. On a 2-core
 * machine the three masters, the service and the load generator share the same cores, so the ratio
 * shows what the Cluster costs per request (client-side slot routing, one connection per master),
 * not what it adds in capacity: that needs masters on machines of their own.
 */
export async function clusterScenarios(options: { root: string; connections: number; durationSec: number; notes: string[] }): Promise<string | ClusterRow[]> {
  const identity = await startIdentity()
  const cluster = await startRedisCluster({ masters: 3 })
  const single = createTestRedisPrefix('bench-single')
  const jwts: string[] = []
  for (let i = 0; i < 8; i += 1) jwts.push((await identity.signUp()).jwt)
  const measure = async (service: SpawnedTokenService) => {
    try {
      const { exchange, refresh } = await tokenServiceLoad(service, jwts, options)
      await exchange()
      const exchanged = await exchange()
      await refresh()
      const refreshed = await refresh()
      return { exchanged, refreshed }
    } finally {
      await service.stop()
    }
  }
  try {
    const one = await measure(await spawnBenchTokenService(options.root, identity, { redisPrefix: single.prefix }))
    const many = await measure(
      await spawnBenchTokenService(options.root, identity, {
        env: { REDIS_CLUSTER_NODES: cluster.seeds, REDIS_PREFIX: 'bench:', KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex') },
      }),
    )
    const row = (name: string, result: LoadResult & { cpuUsPerReq: number | null }, baseline: LoadResult, baselineName: string): ClusterRow => ({
      name,
      ...result,
      baseline: baselineName,
      ratio: result.rps / baseline.rps,
    })
    return [
      row('token-service exchange, one Redis node', one.exchanged, one.exchanged, 'baseline'),
      row('token-service exchange, 3-master Redis Cluster', many.exchanged, one.exchanged, 'exchange on one node'),
      row('token-service refresh, one Redis node', one.refreshed, one.refreshed, 'baseline'),
      row('token-service refresh, 3-master Redis Cluster', many.refreshed, one.refreshed, 'refresh on one node'),
    ]
  } catch (error) {
    return `cluster section not measured: ${error instanceof Error ? error.message : String(error)}`
  } finally {
    await cluster.stop()
    await identity.close()
    await single.cleanup()
  }
}
