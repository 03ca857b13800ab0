// docker-compose.yml's `cluster` profile, checked without a Docker engine: the
// topology test/fleet-cluster.test.ts runs on loopback (a 3-master + 3-replica
// Redis Cluster made by infra/redis/create-cluster.sh from nodes configured by
// infra/redis/cluster-node.conf, three token-service and two todo-api replicas,
// their own gateway), and every part of it wired to the others.
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import t from 'tap'
import { loadConfig as loadTokenServiceConfig } from '../services/token-service/src/config.ts'
import { loadGatewayConfig } from '../infra/gateway/gateway-config.ts'
import { composeEnvExamplePath, environmentOf, environmentWithSecrets, loadCompose, makeSecrets, parseEnvFile } from './helpers/compose.ts'
import { repoRoot } from './helpers/gateways.ts'

const example = parseEnvFile(readFileSync(composeEnvExamplePath, 'utf8'))
const filled = new Map([...example].map(([k, v]) => [k, v.startsWith('replace-with-') ? randomBytes(32).toString('hex') : v]))
const services = loadCompose(filled).services
const secretDir = mkdtempSync(join(tmpdir(), 'compose-cluster-secrets-'))
t.teardown(() => rmSync(secretDir, { recursive: true, force: true }))
makeSecrets(secretDir)
const redisPassword = readFileSync(join(secretDir, 'redis_password.txt'), 'utf8').trimEnd()
const nodes = Array.from({ length: 6 }, (_, i) => `redis-cluster-${i + 1}`)
const profiled = Object.entries(services)
  .filter(([, s]) => s.profiles?.includes('cluster'))
  .map(([name]) => name)

t.test('the profile holds six Redis nodes, the one-shot cluster creation, and the scaled-out services', async (t) => {
  t.same(profiled.sort(), [...nodes, 'redis-cluster-init', 'token-service-cluster', 'todo-api-cluster', 'gateway-cluster'].sort())
  for (const name of profiled) t.same(services[name]!.profiles, ['cluster'], `${name} runs only with --profile cluster`)
})

t.test('every node runs the tested node config with its own volume, and the password from the secret', async (t) => {
  const conf = 'infra/redis/cluster-node.conf'
  t.ok(existsSync(resolve(repoRoot, conf)))
  t.match(readFileSync(resolve(repoRoot, conf), 'utf8'), /^cluster-enabled yes$/m)
  const volumes = new Set<string>()
  for (const name of nodes) {
    const node = services[name]!
    const command = node.command as string[]
    t.same(node.entrypoint, ['sh', '/usr/local/bin/redis-entrypoint.sh'], `${name} starts through the tested entrypoint (test/redis-entrypoint.test.ts)`)
    t.ok(node.volumes?.includes('./infra/redis/redis-entrypoint.sh:/usr/local/bin/redis-entrypoint.sh:ro'), `${name} mounts it`)
    const mounted = node.volumes?.find((v) => v.startsWith(`./${conf}:`))
    t.ok(mounted?.endsWith(':ro'), `${name} mounts ${conf} read-only`)
    t.same(command, [mounted?.split(':')[1]], `${name} starts from the mounted config and nothing else on its command line`)
    t.same(node.secrets, ['redis_password'], `${name} gets the password (requirepass and masterauth) from the secret`)
    t.match(JSON.stringify(node.healthcheck?.test), '/run/secrets/redis_password', `${name}'s healthcheck authenticates with it`)
    const data = node.volumes?.find((v) => v.endsWith(':/data'))
    t.ok(data, `${name} keeps its data (nodes.conf, AOF) on a volume`)
    volumes.add(data!.split(':')[0]!)
  }
  t.equal(volumes.size, 6, 'one volume per node')
})

t.test('redis-cluster-init runs the tested creation script over all six nodes, after each is healthy', async (t) => {
  const init = services['redis-cluster-init']!
  const script = 'infra/redis/create-cluster.sh'
  t.ok(
    init.volumes?.some((v) => v.startsWith(`./${script}:`)),
    'mounts the script the tests run',
  )
  t.same(init.entrypoint, ['sh', '/usr/local/bin/create-cluster.sh'])
  const [replicas, ...addresses] = init.command as string[]
  t.equal(replicas, '1', 'one replica per master: 3 masters + 3 replicas')
  t.same(
    addresses,
    nodes.map((n) => `${n}:6379`),
  )
  for (const name of nodes) t.equal(init.depends_on?.[name]?.condition, 'service_healthy')
  t.equal(environmentOf(init).REDIS_PASSWORD_FILE, '/run/secrets/redis_password', 'create-cluster.sh reads the password from the secret')
  t.same(init.secrets, ['redis_password'])
})

t.test('three token-service replicas on the cluster, waiting for replication, started after the cluster exists', async (t) => {
  const ts = services['token-service-cluster']!
  t.equal(ts.deploy?.replicas, 3)
  t.equal(ts.depends_on?.['redis-cluster-init']?.condition, 'service_completed_successfully')
  const config = loadTokenServiceConfig(environmentWithSecrets(ts, secretDir))
  t.equal(config.redis?.mode, 'cluster')
  if (config.redis?.mode === 'cluster') {
    t.ok(
      config.redis.nodes.every((n) => nodes.includes(n.host) && n.port === 6379),
      'the seeds are cluster nodes',
    )
  }
  t.equal(config.redis?.password, redisPassword, 'the password of the Redis secret')
  t.equal(config.redis?.waitReplicas, 1, 'a write is answered once a replica has it')
  t.equal(config.DEPLOYMENT_MODE, 'production')
})

t.test('two todo-api replicas trust the cluster fleet, and its gateway routes to them', async (t) => {
  t.equal(services['todo-api-cluster']!.deploy?.replicas, 2)
  t.equal(environmentOf(services['todo-api-cluster']!).TOKEN_SERVICE_JWKS_URL, 'http://token-service-cluster:3002/.well-known/jwks.json')
  const gateway = loadGatewayConfig(environmentOf(services['gateway-cluster']!))
  t.equal(gateway.upstreams['token-service'], 'token-service-cluster:3002')
  t.equal(gateway.upstreams['todo-api'], 'todo-api-cluster:3003')
  t.equal(gateway.upstreams.identity, 'identity:3001', 'identity is shared')
  t.same(services['gateway-cluster']!.ports, services.gateway!.ports, 'the same published port: one gateway or the other')
})
