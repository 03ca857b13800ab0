import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)
/** docker-compose.yml's cluster node config and creation script: the tests run the same files. */
const clusterNodeConf = resolve(import.meta.dirname, '../../../infra/redis/cluster-node.conf')
const createClusterScript = resolve(import.meta.dirname, '../../../infra/redis/create-cluster.sh')

/**
 * Real Redis servers for tests that need more than the machine's one node:
 * a Redis Cluster and a Sentinel group, each started from Debian's
 * `redis-server` on loopback ports in a temporary folder of the test's own,
 * and stopped (folder removed) by stop() or when the test process exits.
 */
export interface RedisNode {
  readonly host: string
  readonly port: number
}

export interface RedisServer extends RedisNode {
  /** SIGKILL: the node dies as in a crash. */
  kill(): Promise<void>
  /** SIGSTOP / SIGCONT: the node hangs with its sockets open. */
  pause(): void
  resume(): void
  readonly child: ChildProcess
}

const live = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL')
})

/** A free loopback port (the OS picks it; another process could still take it before use). */
export async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  server.close()
  await once(server, 'close')
  return port
}

async function startServer(dir: string, args: string[], port: number): Promise<RedisServer> {
  const child = spawn('redis-server', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
  live.add(child)
  let exited = false
  child.once('exit', () => {
    exited = true
    live.delete(child)
  })
  await waitFor(async () => (await cli(port, 'PING')) === 'PONG', 10_000, `redis-server on port ${port} did not answer`)
  return {
    host: '127.0.0.1',
    port,
    child,
    async kill() {
      if (exited) return
      const done = once(child, 'exit')
      child.kill('SIGKILL')
      await done
    },
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
  }
}

/** One redis-cli command against a loopback port; the reply as text ('' when it cannot connect). */
export async function cli(port: number, ...command: string[]): Promise<string> {
  try {
    const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...command], { timeout: 5000 })
    return stdout.trim()
  } catch {
    return ''
  }
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, message: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(message)
}

const common = ['--bind', '127.0.0.1', '--save', '', '--protected-mode', 'no', '--loglevel', 'warning']

/** One standalone node on a free loopback port, no persistence: a Redis of the test's own to pause or kill. */
export async function startRedisServer(): Promise<RedisServer & { readonly url: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'redis-server-'))
  const port = await freePort()
  try {
    const server = await startServer(dir, [...common, '--port', String(port), '--dir', dir], port)
    return Object.assign(server, {
      url: `redis://127.0.0.1:${port}`,
      async stop() {
        server.resume()
        await server.kill()
        rmSync(dir, { recursive: true, force: true })
      },
    })
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
}

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
      // The compose file's node config; a test only moves ports and files, and fails over faster.
      const args = [clusterNodeConf, ...common, '--port', String(port), '--cluster-port', String(busPort), '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '2000', '--dir', dir, '--appendonly', 'no']
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

export interface RedisSentinelGroup {
  readonly name: string
  readonly master: RedisServer
  readonly replicas: readonly RedisServer[]
  readonly sentinels: readonly RedisServer[]
  /** `host:port,...` of the sentinels, as REDIS_SENTINELS takes it. */
  readonly sentinelList: string
  /** The master's address as the sentinels report it now. */
  currentMaster(): Promise<RedisNode | undefined>
  stop(): Promise<void>
}

/**
 * One master, `replicas` replicas (default 2, so that after one failover a
 * replica is still there to acknowledge WAIT) and `sentinels` sentinels
 * (quorum: a majority) watching them, with a short down-after (`downAfterMs`,
 * default 1 s) so a failover takes seconds. Every node keeps an append-only
 * file fsynced every second.
 */
export async function startRedisSentinel(options: { sentinels?: number; replicas?: number; downAfterMs?: number; name?: string } = {}): Promise<RedisSentinelGroup> {
  const name = options.name ?? 'tsmaster'
  const count = options.sentinels ?? 3
  const dir = mkdtempSync(join(tmpdir(), 'redis-sentinel-'))
  const started: RedisServer[] = []
  const durable = ['--appendonly', 'yes', '--appendfsync', 'everysec']
  try {
    const masterPort = await freePort()
    const master = await startServer(dir, [...common, '--port', String(masterPort), '--dir', dir, '--appenddirname', `aof-${masterPort}`, ...durable], masterPort)
    started.push(master)
    const replicas: RedisServer[] = []
    for (let i = 0; i < (options.replicas ?? 2); i++) {
      const port = await freePort()
      const replica = await startServer(dir, [...common, '--port', String(port), '--dir', dir, '--appenddirname', `aof-${port}`, '--replicaof', '127.0.0.1', String(masterPort), ...durable], port)
      started.push(replica)
      replicas.push(replica)
      await waitFor(async () => (await cli(port, 'INFO', 'replication')).includes('master_link_status:up'), 10_000, 'a replica did not sync')
    }
    const quorum = Math.floor(count / 2) + 1
    const sentinels: RedisServer[] = []
    for (let i = 0; i < count; i++) {
      const port = await freePort()
      const file = join(dir, `sentinel-${port}.conf`)
      writeFileSync(
        file,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          'protected-mode no',
          `dir ${dir}`,
          `sentinel monitor ${name} 127.0.0.1 ${masterPort} ${quorum}`,
          `sentinel down-after-milliseconds ${name} ${options.downAfterMs ?? 1000}`,
          `sentinel failover-timeout ${name} 10000`,
          `sentinel parallel-syncs ${name} 1`,
          '',
        ].join('\n'),
      )
      sentinels.push(await startServer(dir, [file, '--sentinel'], port))
    }
    started.push(...sentinels)
    // Every sentinel must know the replica and the other sentinels before a failover can be agreed.
    await waitFor(
      async () => {
        for (const sentinel of sentinels) {
          const info = await cli(sentinel.port, 'INFO', 'sentinel')
          if (!info.includes(`slaves=${replicas.length},sentinels=${count}`)) return false
        }
        return true
      },
      20_000,
      'the sentinels did not discover the replica and each other',
    )
    return {
      name,
      master,
      replicas,
      sentinels,
      sentinelList: sentinels.map((s) => `${s.host}:${s.port}`).join(','),
      async currentMaster() {
        for (const sentinel of sentinels) {
          const reply = (await cli(sentinel.port, 'SENTINEL', 'get-master-addr-by-name', name)).split('\n')
          if (reply.length === 2) return { host: reply[0]!, port: Number(reply[1]) }
        }
        return undefined
      },
      async stop() {
        await Promise.all(started.map((server) => server.kill()))
        rmSync(dir, { recursive: true, force: true })
      },
    }
  } catch (error) {
    await Promise.all(started.map((server) => server.kill()))
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
}
