import { resolve } from 'node:path'
import type { Test } from 'tap'
import { createTestRedisPrefix, createTestSchema, spawnService, spawnTokenService, startIdentity, type SpawnedService, type StartedIdentity } from '@todo-auth/testkit'

const servicesDir = resolve(import.meta.dirname, '../../services')

/**
 * The providers run without NODE_V8_COVERAGE (which tap hands down): writing
 * and merging the coverage of a whole service process costs about 2 s of CPU
 * per process, and each service's own tests measure its coverage.
 */
const noCoverage = { NODE_V8_COVERAGE: undefined }

/**
 * The real providers, each as its own process started from its server.ts with
 * the environment it reads in production: identity on its own PostgreSQL
 * schema (testkit's startIdentity), token-service on real Redis under a key
 * prefix of its own, todo-api on its own schema. Everything is stopped and
 * cleaned up in t.teardown.
 */
export async function startIdentityProvider(t: Test): Promise<StartedIdentity> {
  // startIdentity types env as strings, but spawnService drops undefined values: this unsets the variable.
  const identity = await startIdentity({ env: noCoverage as unknown as Record<string, string> })
  t.teardown(() => identity.close())
  return identity
}

export interface StartedTokenService {
  url: string
  service: SpawnedService
}

export async function startTokenServiceProvider(t: Test, identity: StartedIdentity, env: Record<string, string> = {}): Promise<StartedTokenService> {
  const redis = createTestRedisPrefix('t_contract_ts')
  t.teardown(() => redis.cleanup())
  const service = await spawnTokenService({
    redisPrefix: redis.prefix,
    identity,
    // Every verification request comes from 127.0.0.1.
    env: { RATE_LIMIT_MAX: '100000', ...noCoverage, ...env },
  })
  // Stopped before the prefix is cleaned (teardowns run in reverse order).
  t.teardown(() => service.stop())
  return { url: service.url, service }
}

export interface StartedTodoApi {
  url: string
  service: SpawnedService
}

/**
 * todo-api as a process from its server.ts on a PostgreSQL schema of its own,
 * configured by `env` over quiet test defaults. The consumer test of todo-api
 * runs it this way too (pointed at the pact mock server), so no test imports its source.
 */
export async function startTodoApiProcess(t: Test, env: Record<string, string | undefined> = {}): Promise<StartedTodoApi> {
  const schema = await createTestSchema('t_contract_todo')
  t.teardown(() => schema.drop())
  const service = await spawnService({
    entry: resolve(servicesDir, 'todo-api/src/server.ts'),
    env: { HOST: '127.0.0.1', PORT: '0', DATABASE_URL: schema.url, PGLITE_DATA_DIR: undefined, LOG_LEVEL: 'info', ...noCoverage, ...env },
  })
  t.teardown(() => service.stop())
  return { url: service.url, service }
}

export function startTodoApiProvider(t: Test, tokenService: StartedTokenService): Promise<StartedTodoApi> {
  return startTodoApiProcess(t, { TOKEN_SERVICE_JWKS_URL: `${tokenService.url}/.well-known/jwks.json` })
}
