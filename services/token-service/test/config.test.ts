import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { Cluster, Redis } from 'ioredis'
import { ConfigError, loadConfig } from '../src/config.ts'
import { closeRedisClient, createRedisClient, hangDetectionMs } from '../src/redis/redis-client.ts'

t.test('defaults give the SPEC ports, issuer and the web and cli clients', async (t) => {
  const config = loadConfig({})
  t.equal(config.PORT, 3002)
  t.equal(config.ADMIN_PORT, 3102)
  t.equal(config.ISSUER, 'http://localhost:8080')
  t.equal(config.ACCESS_TOKEN_TTL, 900)
  t.equal(config.REFRESH_TOKEN_TTL, 604_800)
  t.equal(config.REFRESH_REUSE_GRACE, 10)
  t.equal(config.SIGNING_ALG, 'ES256')
  t.same(
    config.clients.map((c) => [c.clientId, c.refreshTokenDelivery]),
    [
      ['web', 'cookie'],
      ['cli', 'body'],
    ],
  )
  t.equal(config.refreshCookieName, '__Secure-refresh_token')
  t.ok(Object.isFrozen(config))
})

t.test('every bad variable is reported at once, and secrets are not echoed', async (t) => {
  const secret = 'short-admin-token-value'
  try {
    loadConfig({ PORT: 'eighty', ACCESS_TOKEN_TTL: '-5', SIGNING_ALG: 'HS256', ISSUER: 'not a url', ADMIN_TOKEN: secret, KEY_ENCRYPTION_KEY: 'abc', COOKIE_SECURE: 'maybe' })
    t.fail('expected a ConfigError')
  } catch (error) {
    t.type(error, ConfigError)
    const variables = (error as ConfigError).errors.map((e) => e.variable)
    t.same(variables, ['PORT', 'ADMIN_TOKEN', 'ISSUER', 'SIGNING_ALG', 'ACCESS_TOKEN_TTL', 'KEY_ENCRYPTION_KEY', 'COOKIE_SECURE'], 'each bad variable once')
    t.notMatch((error as Error).message, secret)
    t.notMatch((error as Error).message, 'abc')
  }
})

t.test('production refuses the in-process store, insecure cookies and a missing admin token', async (t) => {
  const error = t.throws(() => loadConfig({ DEPLOYMENT_MODE: 'production', COOKIE_SECURE: 'false' })) as ConfigError
  t.same(
    error.errors.map((e) => [e.variable, e.code]),
    [
      ['REDIS_URL', 'ERR_CONFIG_MISSING'],
      ['COOKIE_SECURE', 'ERR_CONFIG_INVALID'],
      ['ADMIN_TOKEN', 'ERR_CONFIG_MISSING'],
    ],
  )
})

t.test('a Redis store requires a key-encryption key', async (t) => {
  t.throws(() => loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' }), /KEY_ENCRYPTION_KEY/)
  const ok = loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379', KEY_ENCRYPTION_KEY: 'a'.repeat(64) })
  t.equal(ok.KEY_ENCRYPTION_KEY?.length, 32)
})

t.test('CLIENTS is parsed and validated', async (t) => {
  const config = loadConfig({
    CLIENTS: JSON.stringify([{ client_id: 'spa', refresh_token_delivery: 'cookie', allowed_origins: ['https://app.example.com'], scopes: ['todos:read'] }]),
  })
  t.same(config.clients, [{ clientId: 'spa', refreshTokenDelivery: 'cookie', allowedOrigins: ['https://app.example.com'], scopes: ['todos:read'], audiences: ['todo-api'] }])
  const bad = [
    'not json',
    '[]',
    JSON.stringify([{ client_id: 'a b', refresh_token_delivery: 'x', scopes: [] }]),
    JSON.stringify([{ client_id: 'web', refresh_token_delivery: 'cookie', scopes: ['todos:read'] }]),
    JSON.stringify([{ client_id: 'w', refresh_token_delivery: 'body', scopes: ['a'], audiences: ['elsewhere'] }]),
  ]
  for (const raw of bad) t.throws(() => loadConfig({ CLIENTS: raw }), /CLIENTS/, raw)
})

t.test('the cookie loses its __Secure- prefix only with COOKIE_SECURE=false', async (t) => {
  t.equal(loadConfig({ COOKIE_SECURE: 'false' }).refreshCookieName, 'refresh_token')
})

t.test('server.ts refuses a bad configuration with exit code 78 and one config_error line, without the secret', async (t) => {
  const entry = fileURLToPath(new URL('../src/server.ts', import.meta.url))
  const child = spawn(process.execPath, [entry], { env: { PATH: process.env.PATH ?? '', PORT: 'x', ADMIN_TOKEN: 'short-admin-token-xyz' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk) => (stdout += chunk))
  child.stderr.on('data', (chunk) => (stderr += chunk))
  const [code] = (await once(child, 'exit')) as [number | null]
  t.equal(code, 78, 'EX_CONFIG')
  t.equal(stdout, '')
  const lines = stderr.trim().split('\n')
  t.equal(lines.length, 1, 'one line')
  t.same(JSON.parse(lines[0]!), {
    event: 'config_error',
    service: 'token-service',
    code: 'ERR_CONFIG_INVALID',
    errors: [
      { variable: 'PORT', code: 'ERR_CONFIG_INVALID', message: 'must be an integer from 0 to 65535' },
      { variable: 'ADMIN_TOKEN', code: 'ERR_CONFIG_INVALID', message: 'must be at least 32 characters' },
    ],
  })
  t.notMatch(stderr, 'short-admin-token-xyz')
})

const redisErrors = (env: Record<string, string>) => {
  try {
    loadConfig({ KEY_ENCRYPTION_KEY: 'a'.repeat(64), ...env })
  } catch (error) {
    if (error instanceof ConfigError) return error.errors.map((e) => [e.variable, e.code])
    throw error
  }
  return []
}

t.test('each Redis mode becomes config.redis, with the shared auth and TLS settings', async (t) => {
  t.equal(loadConfig({}).redis, undefined, 'no mode: the in-process store')
  const single = loadConfig({ REDIS_URL: 'rediss://127.0.0.1:6380', KEY_ENCRYPTION_KEY: 'a'.repeat(64), REDIS_USERNAME: 'ts', REDIS_PASSWORD: 'pw-not-echoed' })
  t.same(single.redis, { mode: 'single', url: 'rediss://127.0.0.1:6380', username: 'ts', password: 'pw-not-echoed', tls: true, tlsCaFile: undefined, waitReplicas: 0, waitTimeoutMs: 500, requestDeadlineMs: 1000 })
  t.equal(single.REDIS_URL, 'rediss://127.0.0.1:6380', 'REDIS_URL stays readable')
  const cluster = loadConfig({ REDIS_CLUSTER_NODES: 'redis-1:7000, redis-2:7001', REDIS_TLS: 'true', REDIS_TLS_CA_FILE: '/etc/ca.pem', KEY_ENCRYPTION_KEY: 'a'.repeat(64) })
  t.same(cluster.redis, {
    mode: 'cluster',
    nodes: [
      { host: 'redis-1', port: 7000 },
      { host: 'redis-2', port: 7001 },
    ],
    username: undefined,
    password: undefined,
    tls: true,
    tlsCaFile: '/etc/ca.pem',
    waitReplicas: 0,
    waitTimeoutMs: 500,
    requestDeadlineMs: 1000,
  })
  const sentinel = loadConfig({ REDIS_SENTINELS: '10.0.0.1:26379,[::1]:26380', REDIS_SENTINEL_NAME: 'mymaster', REDIS_SENTINEL_PASSWORD: 's', KEY_ENCRYPTION_KEY: 'a'.repeat(64) })
  t.same(sentinel.redis, {
    mode: 'sentinel',
    sentinels: [
      { host: '10.0.0.1', port: 26379 },
      { host: '::1', port: 26380 },
    ],
    name: 'mymaster',
    sentinelPassword: 's',
    username: undefined,
    password: undefined,
    tls: false,
    tlsCaFile: undefined,
    waitReplicas: 0,
    waitTimeoutMs: 500,
    requestDeadlineMs: 1000,
  })
  t.ok(Object.isFrozen(sentinel.redis))
})

t.test('any Redis mode counts as a Redis store: production accepts it and it needs a key-encryption key', async (t) => {
  const production = { DEPLOYMENT_MODE: 'production', ADMIN_TOKEN: 'x'.repeat(32), KEY_ENCRYPTION_KEY: 'a'.repeat(64) }
  t.equal(loadConfig({ ...production, REDIS_CLUSTER_NODES: 'redis-1:7000' }).redis?.mode, 'cluster')
  t.equal(loadConfig({ ...production, REDIS_SENTINELS: 's:26379', REDIS_SENTINEL_NAME: 'm' }).redis?.mode, 'sentinel')
  t.throws(() => loadConfig({ REDIS_CLUSTER_NODES: 'redis-1:7000' }), /KEY_ENCRYPTION_KEY is required/)
})

t.test('each Redis mode gets its ioredis client: a Cluster, a Sentinel-discovered master, one node', async (t) => {
  const kek = { KEY_ENCRYPTION_KEY: 'a'.repeat(64) }
  const cluster = createRedisClient(loadConfig({ ...kek, REDIS_CLUSTER_NODES: 'redis-1:7000,redis-2:7001', REDIS_PASSWORD: 'pw', REDIS_WAIT_REPLICAS: '1' }).redis!)
  t.ok(cluster instanceof Cluster, 'REDIS_CLUSTER_NODES: an ioredis Cluster')
  t.same((cluster as unknown as { startupNodes: unknown }).startupNodes, [
    { host: 'redis-1', port: 7000 },
    { host: 'redis-2', port: 7001 },
  ])
  t.equal((cluster as Cluster).options.redisOptions?.password, 'pw', 'the password reaches every node connection')
  t.equal((cluster as Cluster).options.enableOfflineQueue, false, 'fails fast while the cluster is away')
  closeRedisClient(cluster)
  const sentinel = createRedisClient(loadConfig({ ...kek, REDIS_SENTINELS: 's1:26379,s2:26380', REDIS_SENTINEL_NAME: 'm', REDIS_SENTINEL_PASSWORD: 'sp' }).redis!)
  t.ok(sentinel instanceof Redis && !(sentinel instanceof Cluster))
  const options = (sentinel as Redis).options
  t.same(options.sentinels, [
    { host: 's1', port: 26379 },
    { host: 's2', port: 26380 },
  ])
  t.equal(options.name, 'm')
  t.equal(options.sentinelPassword, 'sp')
  t.equal(options.failoverDetector, true, 'a +switch-master moves the connection at once')
  closeRedisClient(sentinel)
  const single = createRedisClient(loadConfig({ ...kek, REDIS_URL: 'redis://127.0.0.1:6399/2' }).redis!)
  t.equal((single as Redis).options.port, 6399)
  t.equal((single as Redis).options.db, 2)
  closeRedisClient(single)
  t.equal(loadConfig({ ...kek, REDIS_URL: 'redis://r:6379', REDIS_WAIT_REPLICAS: '2', REDIS_WAIT_TIMEOUT: '250' }).redis?.waitReplicas, 2)
})

t.test('REDIS_REQUEST_DEADLINE bounds every command and drops a hung connection sooner', async (t) => {
  const kek = { KEY_ENCRYPTION_KEY: 'a'.repeat(64), REDIS_URL: 'redis://r:6379' }
  const single = createRedisClient(loadConfig({ ...kek, REDIS_REQUEST_DEADLINE: '800' }).redis!) as Redis
  t.equal(single.options.commandTimeout, 800, 'no command waits longer than the deadline')
  t.equal(single.options.socketTimeout, 550, 'a connection owing a reply for 250 ms less is dropped')
  t.equal(hangDetectionMs({ requestDeadlineMs: 300, waitReplicas: 0, waitTimeoutMs: 500 }), 150, 'at least half the deadline')
  closeRedisClient(single)
  t.equal(loadConfig(kek).redis?.requestDeadlineMs, 1000, 'default 1 s')
  t.equal(hangDetectionMs({ requestDeadlineMs: 1200, waitReplicas: 1, waitTimeoutMs: 800 }), 1050, 'a WAIT for replicas (and an event-loop stall after it) is not taken for a hang')
  t.throws(() => loadConfig({ ...kek, REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT: '900' }), /REDIS_REQUEST_DEADLINE must be at least REDIS_WAIT_TIMEOUT/)
  t.throws(() => loadConfig({ ...kek, REDIS_REQUEST_DEADLINE: '50' }), /REDIS_REQUEST_DEADLINE/)
})

t.test('bad Redis settings are refused with their codes', async (t) => {
  const cases: [string, Record<string, string>, (string | undefined)[][]][] = [
    ['two modes', { REDIS_URL: 'redis://r:6379', REDIS_SENTINELS: 's:26379', REDIS_SENTINEL_NAME: 'm' }, [['REDIS_URL', 'ERR_CONFIG_CONFLICT']]],
    ['three modes', { REDIS_URL: 'redis://r:6379', REDIS_CLUSTER_NODES: 'c:7000', REDIS_SENTINELS: 's:26379', REDIS_SENTINEL_NAME: 'm' }, [['REDIS_URL', 'ERR_CONFIG_CONFLICT']]],
    ['sentinels without a master name', { REDIS_SENTINELS: 's:26379' }, [['REDIS_SENTINEL_NAME', 'ERR_CONFIG_MISSING']]],
    ['a master name without sentinels', { REDIS_URL: 'redis://r:6379', REDIS_SENTINEL_NAME: 'm' }, [['REDIS_SENTINEL_NAME', 'ERR_CONFIG_INVALID']]],
    ['a sentinel password without sentinels', { REDIS_CLUSTER_NODES: 'c:7000', REDIS_SENTINEL_PASSWORD: 'p' }, [['REDIS_SENTINEL_PASSWORD', 'ERR_CONFIG_INVALID']]],
    ['a node without a port', { REDIS_CLUSTER_NODES: 'c:7000,c2' }, [['REDIS_CLUSTER_NODES', 'ERR_CONFIG_INVALID']]],
    ['a port out of range', { REDIS_SENTINELS: 's:70000', REDIS_SENTINEL_NAME: 'm' }, [['REDIS_SENTINELS', 'ERR_CONFIG_INVALID']]],
    ['an http REDIS_URL', { REDIS_URL: 'http://r:6379' }, [['REDIS_URL', 'ERR_CONFIG_INVALID']]],
    ['a non-boolean REDIS_TLS', { REDIS_URL: 'redis://r:6379', REDIS_TLS: 'sometimes' }, [['REDIS_TLS', 'ERR_CONFIG_INVALID']]],
    ['a CA file without TLS', { REDIS_URL: 'redis://r:6379', REDIS_TLS_CA_FILE: '/ca.pem' }, [['REDIS_TLS_CA_FILE', 'ERR_CONFIG_INVALID']]],
    ['credentials without any Redis', { REDIS_PASSWORD: 'p' }, [['REDIS_PASSWORD', 'ERR_CONFIG_INVALID']]],
  ]
  for (const [name, env, expected] of cases) t.same(redisErrors(env), expected, name)
})

t.test('Redis passwords are never echoed', async (t) => {
  const error = t.throws(() => loadConfig({ REDIS_PASSWORD: 'hunter2-redis', REDIS_SENTINEL_PASSWORD: 'hunter3-sentinel' })) as ConfigError
  t.notMatch(JSON.stringify(error.errors) + error.message, /hunter/)
})
