import { randomBytes } from 'node:crypto'
import { resolve } from 'node:path'
import type { StartedIdentity } from './identity.ts'
import { testRedisUrl } from './redis.ts'
import { spawnService, type SpawnedService } from './spawn-service.ts'

/** services/token-service's entry, found from this file so the caller's cwd does not matter. */
export const tokenServiceEntry = resolve(import.meta.dirname, '../../../services/token-service/src/server.ts')

/**
 * For load tests and benches that exchange one BetterAuth JWT over and over (BetterAuth hands out the
 * identical JWT within a second anyway): lifts token-service's replay rule, which
 * services/token-service/test/better-auth/subject-token-replay.test.ts covers on its own.
 */
export const repeatedExchangesEnv = { SUBJECT_TOKEN_MAX_EXCHANGES: '1000000' } as const

/** The BetterAuth whose JWTs token-service accepts: a startIdentity() answer, or just a JWKS URL (the rest at token-service's defaults). */
export type TrustedIdentity = Pick<StartedIdentity, 'jwksUrl'> & Partial<Pick<StartedIdentity, 'issuer' | 'audience' | 'algorithms'>>

export interface SpawnTokenServiceOptions {
  /** The Redis key prefix of the caller's createTestRedisPrefix (the caller cleans it up). Omitted: the in-process store. */
  redisPrefix?: string
  /** Default testRedisUrl; used only with redisPrefix. */
  redisUrl?: string
  /** The BetterAuth to trust. */
  identity?: TrustedIdentity
  /** Also start the admin listener (on 127.0.0.1, any free port) with `adminToken`, random unless given. */
  admin?: boolean | { token: string }
  /**
   * Applied last, so it wins over the defaults: HOST=127.0.0.1, PORT=0, ISSUER=http://localhost:8080,
   * LOG_LEVEL=info, a random KEY_ENCRYPTION_KEY with Redis, the default clients (`web`, `cli`).
   * An undefined value removes a variable.
   */
  env?: Record<string, string | undefined>
  /** Default tokenServiceEntry (the TypeScript sources); e.g. a built dist/server.js. */
  entry?: string
  execArgv?: string[]
  timeoutMs?: number
}

export interface SpawnedTokenService extends SpawnedService {
  /** The admin API's bearer token; undefined without the admin listener. */
  adminToken: string | undefined
  /** `urls.admin`; undefined without the admin listener. */
  adminUrl: string | undefined
  /** `${url}/oauth/token`. */
  tokenUrl: string
  /** `${url}/.well-known/jwks.json`: what a resource server's TOKEN_SERVICE_JWKS_URL points at. */
  jwksUrl: string
}

/**
 * Starts services/token-service as a child process for a test (or a bench), with
 * test defaults for everything `env` does not set. Stop it in `t.teardown`
 * before the Redis prefix is cleaned (teardowns run in reverse order).
 *
 * @example
 * const redis = createTestRedisPrefix('t-mine')
 * t.teardown(() => redis.cleanup())
 * const tokenService = await spawnTokenService({ redisPrefix: redis.prefix, identity, admin: true })
 * t.teardown(() => tokenService.stop())
 */
export async function spawnTokenService(options: SpawnTokenServiceOptions = {}): Promise<SpawnedTokenService> {
  const { identity, redisPrefix } = options
  const adminToken = options.admin ? (typeof options.admin === 'object' ? options.admin.token : randomBytes(32).toString('base64url')) : undefined
  const env: Record<string, string | undefined> = {
    HOST: '127.0.0.1',
    PORT: '0',
    ISSUER: 'http://localhost:8080',
    LOG_LEVEL: 'info',
    // undefined: no admin listener, whatever the caller's environment holds.
    ADMIN_TOKEN: adminToken,
    ...(adminToken ? { ADMIN_HOST: '127.0.0.1', ADMIN_PORT: '0' } : {}),
    ...(redisPrefix !== undefined ? { REDIS_URL: options.redisUrl ?? testRedisUrl, REDIS_PREFIX: redisPrefix, KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex') } : { REDIS_URL: undefined, KEY_ENCRYPTION_KEY: undefined }),
    ...(identity
      ? {
          BETTER_AUTH_JWKS_URL: identity.jwksUrl,
          ...(identity.issuer ? { BETTER_AUTH_ISSUER: identity.issuer } : {}),
          ...(identity.audience ? { BETTER_AUTH_AUDIENCE: identity.audience } : {}),
          ...(identity.algorithms ? { BETTER_AUTH_ALGORITHMS: identity.algorithms.join(',') } : {}),
        }
      : {}),
    ...options.env,
  }
  const service = await spawnService({
    entry: options.entry ?? tokenServiceEntry,
    env,
    listeners: adminToken ? ['public', 'admin'] : ['public'],
    ...(options.execArgv ? { execArgv: options.execArgv } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  })
  return Object.assign(service, {
    adminToken,
    adminUrl: service.urls.admin,
    tokenUrl: `${service.url}/oauth/token`,
    jwksUrl: `${service.url}/.well-known/jwks.json`,
  })
}
