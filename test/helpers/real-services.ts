import { randomBytes } from 'node:crypto'
import { resolve } from 'node:path'
import { createTestRedisPrefix, createTestSchema, spawnService, spawnTokenService, startIdentity, type SpawnedService, type SpawnedTokenService, type StartedIdentity } from '@todo-auth/testkit'
import { repoRoot } from './gateways.ts'

/** identity, token-service and todo-api as processes on the machine's PostgreSQL and Redis, with the secrets they were given. */
export interface RealServices {
  identity: StartedIdentity
  tokenService: SpawnedTokenService
  todoApi: SpawnedService
  /** BETTER_AUTH_SECRET, KEY_ENCRYPTION_KEY and ADMIN_TOKEN: never to be seen in a log or a body. */
  secrets: { betterAuthSecret: string; keyEncryptionKey: string; adminToken: string }
  /** Stops every process and drops the schemas and the Redis prefix. */
  close(): Promise<void>
}

/**
 * Starts the three services for a cross-service test: identity on its own
 * PostgreSQL schema, token-service on a Redis prefix of its own with the admin
 * listener, todo-api on another schema, all at `logLevel`.
 */
export async function startRealServices(name: string, logLevel = 'info'): Promise<RealServices> {
  const secrets = { betterAuthSecret: randomBytes(32).toString('base64url'), keyEncryptionKey: randomBytes(32).toString('hex'), adminToken: randomBytes(32).toString('base64url') }
  const stops: (() => Promise<unknown>)[] = []
  const close = async () => {
    for (const stop of stops.reverse()) await stop()
  }
  try {
    const identity = await startIdentity({ env: { BETTER_AUTH_SECRET: secrets.betterAuthSecret, LOG_LEVEL: logLevel } })
    stops.push(() => identity.close())
    const redis = createTestRedisPrefix(`t:${name}`)
    stops.push(() => redis.cleanup())
    const tokenService = await spawnTokenService({
      redisPrefix: redis.prefix,
      identity,
      admin: { token: secrets.adminToken },
      env: { KEY_ENCRYPTION_KEY: secrets.keyEncryptionKey, LOG_LEVEL: logLevel },
    })
    stops.push(() => tokenService.stop())
    const schema = await createTestSchema(`t_${name}`)
    stops.push(() => schema.drop())
    const todoApi = await spawnService({
      entry: resolve(repoRoot, 'services/todo-api/src/server.ts'),
      env: { HOST: '127.0.0.1', PORT: '0', DATABASE_URL: schema.url, PGLITE_DATA_DIR: undefined, TOKEN_SERVICE_JWKS_URL: tokenService.jwksUrl, LOG_LEVEL: logLevel },
    })
    stops.push(() => todoApi.stop())
    return { identity, tokenService, todoApi, secrets, close }
  } catch (error) {
    await close()
    throw error
  }
}
