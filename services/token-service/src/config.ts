import { Type } from 'typebox'
import {
  boolean,
  ConfigErrorCode,
  configProblem,
  corsOrigins,
  duration,
  hostPortList,
  integer,
  isAddressOrCidr,
  key,
  list,
  loadEnv,
  oneOf,
  optional,
  port,
  text,
  url,
  type ConfigRule,
  type EnvValues,
  type HostPort,
  shutdownDrainVariable,
} from '@todo-auth/service-config'
import { defaultClients, defaultWebOrigins, parseClients, type ClientConfig } from './config/clients.ts'
import { parseIntrospectionClients, type IntrospectionClient } from './config/introspection-clients.ts'

export { ConfigError } from '@todo-auth/service-config'

const betterAuthAlgorithms = ['EdDSA', 'ES256', 'ES384', 'ES512', 'RS256', 'PS256']
const redisModes = ['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'] as const

/**
 * Every environment variable token-service reads, described once. The table
 * in docs/configuration.md is rendered from it (node scripts/config-docs.ts).
 */
export const EnvSchema = Type.Object({
  DEPLOYMENT_MODE: oneOf(['development', 'production'], { default: 'development', description: '`production` refuses development-only settings (in-process store, insecure cookie, generated secrets).' }),
  HOST: text({ default: '127.0.0.1', description: 'Public listener address.' }),
  PORT: port({ default: 3002, description: 'Public listener port (0 = any free port).' }),
  ADMIN_HOST: text({ default: '127.0.0.1', description: 'Admin listener address. Keep it on loopback or a private network: never route it through the gateway.' }),
  ADMIN_PORT: port({ default: 3102, description: 'Admin listener port (0 = any free port).' }),
  ADMIN_TOKEN: optional(text({ minLength: 32, secret: true, example: 'openssl rand -base64 32', description: 'Bearer token for the admin API. Without it the admin listener does not start (and production refuses to start).' })),
  LOG_LEVEL: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info', description: 'pino log level.' }),
  SHUTDOWN_DRAIN: shutdownDrainVariable(),
  TRUST_PROXY: list({ default: '', item: { expects: 'an IP address or CIDR', test: isAddressOrCidr }, description: 'Proxy addresses/CIDRs whose X-Forwarded-* headers are believed (the gateway). Empty: trust none.' }),
  ISSUER: url({ default: 'http://localhost:8080', description: '`iss` of our access tokens and the RFC 8414 issuer; the public origin clients reach us at.' }),
  AUDIENCES: list({ default: 'todo-api', description: 'Audiences (resource servers) tokens may be issued for; the first is the default.' }),
  CLIENTS: optional(text({ description: 'Registered clients as a JSON array (docs/configuration.md#clients). Default: `web` (cookie) and `cli` (body).' })),
  INTROSPECTION_CLIENTS: optional(
    text({
      secret: true,
      example: 'todo-api:<openssl rand -base64 32>',
      description:
        'Resource servers allowed to call POST /oauth/introspect (RFC 7662), as comma-separated `client_id:client_secret` pairs, each secret at least 32 characters; they authenticate with HTTP Basic. Unset: introspection answers every call 401.',
    }),
  ),
  WEB_ALLOWED_ORIGINS: list({ default: defaultWebOrigins.join(','), description: 'Allowed origins of the default `web` client (ignored when CLIENTS is set).' }),
  CORS_ORIGINS: corsOrigins({
    description:
      'Origins of frontends on other origins allowed to call the public routes (CORS; README "A frontend on another origin"). Empty: CORS off. `*` is refused. Credentials (the refresh cookie) are allowed only on `/oauth/*` and only for origins also registered for a cookie client (WEB_ALLOWED_ORIGINS / CLIENTS); any other listed origin uses a body client such as `cli`. Never applies to the admin listener.',
  }),
  SIGNING_ALG: oneOf(['ES256', 'EdDSA', 'RS256'], { default: 'ES256', description: 'Algorithm of our signing keys.' }),
  ACCESS_TOKEN_TTL: duration({ unit: 'seconds', default: 900, minimum: 30, maximum: 86_400, description: 'Access-token lifetime.' }),
  REFRESH_TOKEN_TTL: duration({ unit: 'seconds', default: 604_800, minimum: 60, description: 'Absolute session (refresh-token family) lifetime; refreshing never extends it.' }),
  REFRESH_IDLE_TTL: duration({ unit: 'seconds', default: 259_200, minimum: 60, description: 'A session unused this long ends (idle expiry). At most REFRESH_TOKEN_TTL.' }),
  MAX_SESSIONS_PER_USER: integer({
    default: 50,
    minimum: 1,
    maximum: 10_000,
    description: 'Sessions one user may hold at once; a token exchange past it ends that user’s oldest sessions (their refresh tokens stop working). `GET /sessions` pages through them.',
  }),
  SUBJECT_TOKEN_MAX_EXCHANGES: integer({
    default: 3,
    minimum: 1,
    maximum: 1_000_000,
    description:
      'How many times one BetterAuth JWT may be exchanged (counted by its `jti`, or a hash of the token when it has none, for its remaining lifetime); the next exchange is `invalid_grant`. The web page exchanges once per sign-in; 3 leaves room for a reload or a second tab in the same second, when BetterAuth hands out the identical JWT.',
  }),
  REFRESH_REUSE_GRACE: duration({ unit: 'seconds', default: 10, minimum: 0, maximum: 300, description: 'How long a repeat of a just-spent refresh token returns the same successor instead of revoking the session.' }),
  CLOCK_TOLERANCE: duration({ unit: 'seconds', default: 30, minimum: 0, maximum: 300, description: 'Clock skew tolerated when checking exp/nbf/iat.' }),
  KEY_ENCRYPTION_KEY: optional(key({ bytes: 32, example: 'openssl rand -hex 32', description: 'AES-256-GCM key-encryption key for private signing keys at rest. Required unless DEPLOYMENT_MODE=development with the in-process store.' })),
  KEY_ROTATION_INTERVAL: duration({ unit: 'seconds', default: 2_592_000, minimum: 60, description: 'Time between scheduled key rotations; must exceed JWKS_MAX_AGE + KEY_PUBLISH_MARGIN.' }),
  JWKS_MAX_AGE: duration({ unit: 'seconds', default: 600, minimum: 1, maximum: 86_400, description: 'Upper bound of the JWKS Cache-Control max-age; a next key is published at least this plus KEY_PUBLISH_MARGIN before it signs.' }),
  KEY_PUBLISH_MARGIN: duration({ unit: 'seconds', default: 60, minimum: 0, description: 'Extra time a next key stays published before it may sign.' }),
  KEY_ENCRYPTION_KEY_PREVIOUS: optional(
    key({ bytes: 32, description: 'The previous key-encryption key, set only while re-encrypting stored private keys under a new KEY_ENCRYPTION_KEY (docs/operations.md). Keys sealed under either are readable.' }),
  ),
  KEY_RELOAD_INTERVAL: duration({
    unit: 'seconds',
    default: 10,
    minimum: 1,
    maximum: 3600,
    description: 'Time between periodic reloads of the key set (heals a missed change notification; also checks whether a scheduled rotation is due). Keep it below KEY_PUBLISH_MARGIN.',
  }),
  REDIS_URL: optional(
    url({
      protocols: ['redis:', 'rediss:'],
      secret: true,
      example: 'redis://:password@127.0.0.1:6379/0',
      description:
        'One Redis node for keys, sessions and rate limits. No Redis mode set (this, REDIS_CLUSTER_NODES or REDIS_SENTINELS): an in-process store (development only; state is lost on exit and not shared between instances). At most one Redis mode may be set.',
    }),
  ),
  REDIS_CLUSTER_NODES: optional(hostPortList({ example: 'redis-1:7000,redis-2:7000', description: 'Redis Cluster mode: seed nodes (`host:port`, comma-separated).' })),
  REDIS_SENTINELS: optional(hostPortList({ example: 'sentinel-1:26379,sentinel-2:26379', description: 'Redis Sentinel mode: the sentinels (`host:port`, comma-separated); needs REDIS_SENTINEL_NAME.' })),
  REDIS_SENTINEL_NAME: optional(text({ example: 'mymaster', description: 'Name of the master group the sentinels watch; required with REDIS_SENTINELS.' })),
  REDIS_USERNAME: optional(text({ description: 'Redis ACL user (any Redis mode).' })),
  REDIS_PASSWORD: optional(text({ secret: true, description: 'Redis password (any Redis mode; a password inside REDIS_URL works too).' })),
  REDIS_SENTINEL_PASSWORD: optional(text({ secret: true, description: 'Password of the sentinels themselves (Sentinel mode).' })),
  REDIS_TLS: boolean({ default: false, description: 'TLS to Redis (any Redis mode; a `rediss://` REDIS_URL implies it).' }),
  REDIS_TLS_CA_FILE: optional(text({ example: '/etc/ssl/redis-ca.pem', description: 'PEM file of the CA that signed the Redis certificates; needs TLS.' })),
  REDIS_PREFIX: text({ default: 'ts:', description: 'Prefix of every Redis key this service writes.' }),
  REDIS_WAIT_REPLICAS: integer({
    default: 0,
    minimum: 0,
    maximum: 16,
    description:
      'Replicas that must acknowledge (Redis WAIT) every session, refresh and key write before it is answered; fewer within REDIS_WAIT_TIMEOUT: 503 `temporarily_unavailable`. 1 with Sentinel or a Cluster with replicas: a failover then keeps an answered write whenever it promotes a replica that acknowledged it, which Redis makes likely, not certain (docs/operations.md, "Durability across a failover").',
  }),
  REDIS_WAIT_TIMEOUT: duration({ unit: 'milliseconds', default: 500, minimum: 1, maximum: 10_000, description: 'How long one write waits for REDIS_WAIT_REPLICAS acknowledgements.' }),
  REDIS_REQUEST_DEADLINE: duration({
    unit: 'milliseconds',
    default: 1000,
    minimum: 100,
    maximum: 30_000,
    description:
      'The most a request waits for Redis, for the whole request (not per command): a connection that owes a reply for nearly that long (Redis hung, not down) is dropped, and the requests then answer 503 `temporarily_unavailable` at once until Redis answers again; /readyz gives up after a quarter of it. With REDIS_WAIT_REPLICAS at least REDIS_WAIT_TIMEOUT + 400 ms (docs/operations.md §8).',
  }),
  BETTER_AUTH_JWKS_URL: url({ default: 'http://127.0.0.1:3001/api/auth/jwks', description: "BetterAuth's JWKS." }),
  BETTER_AUTH_ISSUER: text({ default: 'http://localhost:8080/api/auth', description: 'Expected `iss` of BetterAuth JWTs (exact match).' }),
  BETTER_AUTH_AUDIENCE: text({ default: 'token-service', description: 'Expected `aud` of BetterAuth JWTs.' }),
  BETTER_AUTH_ALGORITHMS: list({
    default: 'EdDSA',
    item: { expects: `an asymmetric JWS algorithm BetterAuth signs with (${betterAuthAlgorithms.join(', ')})`, test: (alg) => betterAuthAlgorithms.includes(alg) },
    description: 'Algorithms accepted on BetterAuth JWTs (never none or HS*).',
  }),
  BETTER_AUTH_JWKS_TIMEOUT: duration({ unit: 'milliseconds', default: 3000, minimum: 100, maximum: 60_000, description: 'Timeout of one BetterAuth JWKS fetch.' }),
  BETTER_AUTH_JWKS_COOLDOWN: duration({
    unit: 'milliseconds',
    default: 5000,
    minimum: 0,
    maximum: 600_000,
    description: 'Cap of the unknown-kid refetch backoff of the BetterAuth JWKS (immediate first, then 100 ms doubling; a found kid resets it).',
  }),
  BETTER_AUTH_JWKS_STALE_IF_ERROR: duration({ unit: 'seconds', default: 3600, minimum: 0, description: 'How long the last good BetterAuth JWKS keeps serving while BetterAuth is unreachable.' }),
  SUBJECT_TOKEN_MAX_AGE: duration({ unit: 'seconds', default: 900, minimum: 10, description: 'Oldest accepted BetterAuth JWT (time since its iat).' }),
  COOKIE_SECURE: boolean({ default: true, description: 'Secure attribute (and __Secure- prefix) of the refresh cookie; false only for plain-http local development.' }),
  RATE_LIMIT_MAX: integer({ default: 60, minimum: 1, description: 'Requests per client IP per window on /oauth/token, /oauth/revoke and /oauth/introspect.' }),
  RATE_LIMIT_WINDOW: duration({ unit: 'seconds', default: 60, minimum: 1, description: 'Rate-limit window.' }),
  ADMIN_RATE_LIMIT_MAX: integer({ default: 30, minimum: 1, description: 'Admin API requests per client IP per minute.' }),
})
type Env = EnvValues<typeof EnvSchema>

/** How token-service reaches Redis: one mode, plus the auth and TLS settings every mode shares. */
export type RedisConfig = (
  | { readonly mode: 'single'; readonly url: string }
  | { readonly mode: 'cluster'; readonly nodes: readonly HostPort[] }
  | { readonly mode: 'sentinel'; readonly sentinels: readonly HostPort[]; readonly name: string; readonly sentinelPassword: string | undefined }
) & {
  readonly username: string | undefined
  readonly password: string | undefined
  readonly tls: boolean
  readonly tlsCaFile: string | undefined
  /** Replicas every write waits for (WAIT), and for how long; 0: none. */
  readonly waitReplicas: number
  readonly waitTimeoutMs: number
  /** REDIS_REQUEST_DEADLINE: the longest any command (hence any request) waits for a reply. */
  readonly requestDeadlineMs: number
}

const modesSet = (v: Env) => redisModes.filter((name) => v[name] !== undefined)
const onlyWith = (variable: string, other: string) => configProblem(variable, `is only meaningful together with ${other}`)

const rules: readonly ConfigRule<Env>[] = [
  (v) => (v.REFRESH_IDLE_TTL > v.REFRESH_TOKEN_TTL ? configProblem('REFRESH_IDLE_TTL', 'must not exceed REFRESH_TOKEN_TTL') : undefined),
  (v) => (v.JWKS_MAX_AGE + v.KEY_PUBLISH_MARGIN >= v.KEY_ROTATION_INTERVAL ? configProblem('KEY_ROTATION_INTERVAL', 'must exceed JWKS_MAX_AGE + KEY_PUBLISH_MARGIN (a next key must be published before it signs)') : undefined),
  (v) => {
    const [first, ...others] = modesSet(v)
    return others.length > 0 ? configProblem(first!, `conflicts with ${others.join(' and ')}: set at most one of ${redisModes.join(', ')}`, ConfigErrorCode.conflict) : undefined
  },
  (v) => (v.REDIS_SENTINELS !== undefined && v.REDIS_SENTINEL_NAME === undefined ? configProblem('REDIS_SENTINEL_NAME', 'is required with REDIS_SENTINELS (the master group name)', ConfigErrorCode.missing) : undefined),
  (v) => (v.REDIS_SENTINELS === undefined && v.REDIS_SENTINEL_NAME !== undefined ? onlyWith('REDIS_SENTINEL_NAME', 'REDIS_SENTINELS') : undefined),
  (v) => (v.REDIS_SENTINELS === undefined && v.REDIS_SENTINEL_PASSWORD !== undefined ? onlyWith('REDIS_SENTINEL_PASSWORD', 'REDIS_SENTINELS') : undefined),
  (v) => (modesSet(v).length === 0 ? (['REDIS_USERNAME', 'REDIS_PASSWORD', 'REDIS_TLS_CA_FILE'] as const).filter((name) => v[name] !== undefined).map((name) => onlyWith(name, `one of ${redisModes.join(', ')}`)) : undefined),
  (v) => (v.REDIS_TLS_CA_FILE !== undefined && !v.REDIS_TLS && !v.REDIS_URL?.startsWith('rediss:') ? configProblem('REDIS_TLS_CA_FILE', 'needs REDIS_TLS=true (or a rediss:// REDIS_URL)') : undefined),
  (v) =>
    v.DEPLOYMENT_MODE === 'production' && modesSet(v).length === 0
      ? configProblem('REDIS_URL', `one of ${redisModes.join(', ')} is required in production (the in-process store is for development only)`, ConfigErrorCode.missing)
      : undefined,
  (v) => (v.DEPLOYMENT_MODE === 'production' && !v.COOKIE_SECURE ? configProblem('COOKIE_SECURE', 'must be true in production') : undefined),
  (v) => (v.DEPLOYMENT_MODE === 'production' && v.ADMIN_TOKEN === undefined ? configProblem('ADMIN_TOKEN', 'is required in production', ConfigErrorCode.missing) : undefined),
  (v) => (v.KEY_ENCRYPTION_KEY === undefined && modesSet(v).length > 0 ? configProblem('KEY_ENCRYPTION_KEY', 'is required with a Redis store (private keys are encrypted at rest)', ConfigErrorCode.missing) : undefined),
  (v) =>
    v.REDIS_WAIT_REPLICAS > 0 && v.REDIS_REQUEST_DEADLINE < v.REDIS_WAIT_TIMEOUT + 400 ? configProblem('REDIS_REQUEST_DEADLINE', 'must be at least REDIS_WAIT_TIMEOUT + 400 ms (a write may wait that long for its replicas)') : undefined,
  (v) => (v.KEY_ENCRYPTION_KEY_PREVIOUS !== undefined && v.KEY_ENCRYPTION_KEY === undefined ? onlyWith('KEY_ENCRYPTION_KEY_PREVIOUS', 'a new KEY_ENCRYPTION_KEY') : undefined),
]

function redisOf(v: Env): RedisConfig | undefined {
  const shared = {
    username: v.REDIS_USERNAME,
    password: v.REDIS_PASSWORD,
    tls: v.REDIS_TLS || v.REDIS_URL?.startsWith('rediss:') === true,
    tlsCaFile: v.REDIS_TLS_CA_FILE,
    waitReplicas: v.REDIS_WAIT_REPLICAS,
    waitTimeoutMs: v.REDIS_WAIT_TIMEOUT,
    requestDeadlineMs: v.REDIS_REQUEST_DEADLINE,
  }
  if (v.REDIS_URL !== undefined) return Object.freeze({ mode: 'single', url: v.REDIS_URL, ...shared })
  if (v.REDIS_CLUSTER_NODES !== undefined) return Object.freeze({ mode: 'cluster', nodes: v.REDIS_CLUSTER_NODES, ...shared })
  if (v.REDIS_SENTINELS !== undefined) return Object.freeze({ mode: 'sentinel', sentinels: v.REDIS_SENTINELS, name: v.REDIS_SENTINEL_NAME!, sentinelPassword: v.REDIS_SENTINEL_PASSWORD, ...shared })
  return undefined
}

/** Reads, validates and freezes the configuration; throws one ConfigError listing every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env) {
  let clients: readonly ClientConfig[] = []
  const readClients: ConfigRule<Env> = (v) => {
    try {
      clients = Object.freeze(v.CLIENTS ? parseClients(v.CLIENTS, v.AUDIENCES) : defaultClients(v.WEB_ALLOWED_ORIGINS, v.AUDIENCES))
    } catch (error) {
      return configProblem('CLIENTS', (error as Error).message)
    }
    return undefined
  }
  let introspectionClients: readonly IntrospectionClient[] = []
  const readIntrospectionClients: ConfigRule<Env> = (v) => {
    try {
      introspectionClients = Object.freeze(
        v.INTROSPECTION_CLIENTS
          ? parseIntrospectionClients(
              v.INTROSPECTION_CLIENTS,
              clients.map((c) => c.clientId),
            )
          : [],
      )
    } catch (error) {
      return configProblem('INTROSPECTION_CLIENTS', (error as Error).message)
    }
    return undefined
  }
  const { CLIENTS: _clients, WEB_ALLOWED_ORIGINS: _origins, INTROSPECTION_CLIENTS: _introspection, ...values } = loadEnv(EnvSchema, env, { rules: [readClients, readIntrospectionClients, ...rules] })
  return Object.freeze({
    ...values,
    clients,
    /** Confidential resource servers that may introspect (secrets kept as digests only). */
    introspectionClients,
    /** Name of the refresh cookie: `__Secure-` prefixed when COOKIE_SECURE (RFC 6265bis §4.1.3.1). */
    refreshCookieName: values.COOKIE_SECURE ? '__Secure-refresh_token' : 'refresh_token',
    /** Undefined: the in-process store (development only). */
    redis: redisOf(values as Env),
  })
}

/** The configuration's type, derived from the schema through loadConfig. */
export type Config = ReturnType<typeof loadConfig>
