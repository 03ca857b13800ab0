import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './ports.ts'
import { cli, common, startServer, waitFor, type RedisNode, type RedisServer } from './redis-servers.ts'

export interface RedisSentinelGroup {
  readonly name: string
  readonly master: RedisServer
  readonly replicas: readonly RedisServer[]
  readonly sentinels: readonly RedisServer[]
  /** `host:port,...` of the sentinels, as REDIS_SENTINELS takes it. */
  readonly sentinelList: string
  /** The master's address as the sentinels report it now. */
  currentMaster(): Promise<RedisNode | undefined>
  /** What every node logged so far (replication and Sentinel events, notice level), node by node: for a failing test to print. */
  logs(): string
  stop(): Promise<void>
}

/**
 * One master, `replicas` replicas (default 2, so that after one failover a
 * replica is still there to acknowledge WAIT) and `sentinels` sentinels
 * (quorum: a majority) watching them, with a short down-after (`downAfterMs`,
 * default 1 s) so a failover takes seconds. Every node keeps an append-only
 * file fsynced every second and refuses writes without a replica
 * (min-replicas-to-write 1), as docs/operations.md advises.
 */
export async function startRedisSentinel(options: { sentinels?: number; replicas?: number; downAfterMs?: number; name?: string } = {}): Promise<RedisSentinelGroup> {
  const name = options.name ?? 'tsmaster'
  const count = options.sentinels ?? 3
  const dir = mkdtempSync(join(tmpdir(), 'redis-sentinel-'))
  const started: RedisServer[] = []
  // Each replica's first sync starts at once, not after Redis' default 5 s wait for more replicas.
  // min-replicas-to-write 1 as docs/operations.md advises: a master that lost its replicas (one a
  // false failover left behind) refuses writes (NOREPLICAS) instead of running them.
  const durable = ['--appendonly', 'yes', '--appendfsync', 'everysec', '--repl-diskless-sync-delay', '0', '--min-replicas-to-write', '1', '--min-replicas-max-lag', '10']
  const logged = (port: number) => ['--loglevel', 'notice', '--logfile', join(dir, `${port}.log`)]
  try {
    const masterPort = await freePort()
    const master = await startServer(dir, [...common, '--port', String(masterPort), '--dir', dir, '--appenddirname', `aof-${masterPort}`, ...durable, ...logged(masterPort)], masterPort)
    started.push(master)
    const replicas: RedisServer[] = []
    for (let i = 0; i < (options.replicas ?? 2); i++) {
      const port = await freePort()
      const replica = await startServer(dir, [...common, '--port', String(port), '--dir', dir, '--appenddirname', `aof-${port}`, '--replicaof', '127.0.0.1', String(masterPort), ...durable, ...logged(port)], port)
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
          'loglevel notice',
          `logfile ${join(dir, `${port}.log`)}`,
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
      logs() {
        const role = (server: RedisServer) => (server === master ? 'master' : sentinels.includes(server) ? 'sentinel' : 'replica')
        return started
          .map((server) => {
            const file = join(dir, `${server.port}.log`)
            return `--- ${role(server)} ${server.port}\n${existsSync(file) ? readFileSync(file, 'utf8').trimEnd() : '(no log)'}`
          })
          .join('\n')
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
