/**
 * Operator command for signing keys (runbooks, cron):
 *   pnpm --filter @todo-auth/token-service keys list
 *   pnpm --filter @todo-auth/token-service keys rotate [--force]
 *   pnpm --filter @todo-auth/token-service keys revoke <kid>
 *   pnpm --filter @todo-auth/token-service keys reencrypt
 * list/rotate/revoke call the admin API at ADMIN_URL (default
 * http://127.0.0.1:3102) with ADMIN_TOKEN. reencrypt talks to Redis directly
 * with the service's own configuration (docs/operations.md, KEK rotation).
 * Output is JSON on stdout; the token is never printed.
 * Exit codes: 0 done, 1 refused or failed, 2 usage, 78 configuration.
 */
import type { FastifyBaseLogger } from 'fastify'
import { ConfigError, loadConfig } from '../config.ts'
import { keyEncryptionKeys } from '../keys/key-crypto.ts'
import { reencryptKeys } from '../keys/key-reencrypt.ts'
import { createRedisKeyStore } from '../keys/redis-key.store.ts'
import { closeRedisClient, createRedisClient } from '../redis/redis-client.ts'
import { createAdminClient } from './admin-client.ts'
import { readCommandEnv } from './command-env.ts'

const usage = 'usage: keys list | keys rotate [--force] | keys revoke <kid> | keys reencrypt'

function out(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
}
function fail(message: string, code: number): never {
  process.stderr.write(`keys: ${message}\n`)
  process.exit(code)
}

async function adminCall(method: 'GET' | 'POST', path: string): Promise<void> {
  let env
  try {
    env = readCommandEnv(process.env)
  } catch (error) {
    fail((error as Error).message, 78)
  }
  const client = createAdminClient(env)
  let res
  try {
    res = await client.request(method, path)
  } catch (error) {
    fail(`cannot reach the admin API at ${env.url}: ${(error as Error).message}`, 1)
  }
  out(res.body)
  if (res.status >= 400) fail(`the admin API answered ${res.status}`, 1)
}

async function reencrypt(): Promise<void> {
  let config
  try {
    config = loadConfig(process.env)
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message, 78)
    throw error
  }
  if (!config.redis || !config.KEY_ENCRYPTION_KEY) fail('reencrypt needs the Redis settings (REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS) and the new KEY_ENCRYPTION_KEY (and KEY_ENCRYPTION_KEY_PREVIOUS)', 78)
  const quiet = { debug() {}, info() {}, warn() {}, error() {}, fatal() {}, trace() {}, child: () => quiet } as unknown as FastifyBaseLogger
  const redis = createRedisClient(config.redis, { connectionName: 'token-service:keys-command' })
  try {
    await redis.connect()
    const store = createRedisKeyStore({ redis, prefix: config.REDIS_PREFIX, log: quiet, durability: { replicas: config.redis.waitReplicas, timeoutMs: config.redis.waitTimeoutMs } })
    const report = await reencryptKeys(store, keyEncryptionKeys(config, quiet))
    out(report)
    if (report.failed.length > 0) fail(`${report.failed.length} key(s) could not be opened with the configured key-encryption keys`, 1)
  } finally {
    closeRedisClient(redis)
  }
}

const [command, ...args] = process.argv.slice(2)
switch (command) {
  case 'list':
    await adminCall('GET', '/admin/keys')
    break
  case 'rotate': {
    const unknown = args.filter((a) => a !== '--force')
    if (unknown.length > 0) fail(usage, 2)
    await adminCall('POST', `/admin/keys/rotate${args.includes('--force') ? '?force=true' : ''}`)
    break
  }
  case 'revoke': {
    const kid = args[0]
    if (!kid || args.length !== 1) fail(usage, 2)
    await adminCall('POST', `/admin/keys/${encodeURIComponent(kid)}/revoke`)
    break
  }
  case 'reencrypt':
    if (args.length > 0) fail(usage, 2)
    await reencrypt()
    break
  default:
    fail(usage, 2)
}
