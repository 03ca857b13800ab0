import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { freePort } from './ports.ts'
import { cli, common, run, startServer, waitFor, type RedisServer } from './redis-servers.ts'

/** docker-compose.yml's cluster node config and creation script: the tests run the same files. */
const clusterNodeConf = resolve(import.meta.dirname, '../../../infra/redis/cluster-node.conf')
const createClusterScript = resolve(import.meta.dirname, '../../../infra/redis/create-cluster.sh')

export interface RedisCluster {
  /** Every node, masters first. */
  readonly nodes: readonly RedisServer[]
  readonly masters: readonly RedisServer[]
  /** `host:port,host:port,...` of the masters, as REDIS_CLUSTER_NODES takes it. */
  readonly seeds: string
  stop(): Promise<void>
}

/**
 * A Redis Cluster of `masters` masters (at least 3) and `replicasPerMaster`
 * replicas each, created with `redis-cli --cluster create`; resolves when
 * every node reports cluster_state:ok.
 */
export async function startRedisCluster(options: { masters?: number; replicasPerMaster?: number } = {}): Promise<RedisCluster> {
  const masters = options.masters ?? 3
  const replicas = options.replicasPerMaster ?? 0
  const dir = mkdtempSync(join(tmpdir(), 'redis-cluster-'))
  const nodes: RedisServer[] = []
  try {
    for (let i = 0; i < masters * (1 + replicas); i++) {
      const port = await freePort()
      const busPort = await freePort()
      // The compose file's node config; a test only moves ports and files, fails over faster and
      // starts a replica's first sync at once (not after Redis' 5 s wait for more replicas).
      const args = [
        clusterNodeConf,
        ...common,
        '--port',
        String(port),
        '--cluster-port',
        String(busPort),
        '--cluster-config-file',
        `nodes-${port}.conf`,
        '--cluster-node-timeout',
        '2000',
        '--dir',
        dir,
        '--appendonly',
        'no',
        '--repl-diskless-sync-delay',
        '0',
      ]
      nodes.push(await startServer(dir, args, port))
    }
    const addresses = nodes.map((node) => `127.0.0.1:${node.port}`)
    await run('sh', [createClusterScript, String(replicas), ...addresses], { timeout: 30_000 })
    await waitFor(
      async () => {
        for (const node of nodes) if (!(await cli(node.port, 'CLUSTER', 'INFO')).includes('cluster_state:ok')) return false
        return true
      },
      20_000,
      'the Redis Cluster did not reach cluster_state:ok',
    )
    // Replicas sync after the create; WAIT counts only those whose link is up.
    await waitFor(
      async () => {
        for (const node of nodes.slice(masters)) if (!(await cli(node.port, 'INFO', 'replication')).includes('master_link_status:up')) return false
        return true
      },
      20_000,
      'the Redis Cluster replicas did not sync',
    )
  } catch (error) {
    await Promise.all(nodes.map((node) => node.kill()))
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
  // redis-cli --cluster create (in create-cluster.sh) makes the first `masters` addresses the masters.
  const masterNodes = nodes.slice(0, masters)
  return {
    nodes,
    masters: masterNodes,
    seeds: masterNodes.map((node) => `${node.host}:${node.port}`).join(','),
    async stop() {
      await Promise.all(nodes.map((node) => node.kill()))
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
