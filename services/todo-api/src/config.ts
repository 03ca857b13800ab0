import { Type } from 'typebox'
import { corsOrigins, duration, integer, isAddressOrCidr, list, loadEnv, notTogether, oneOf, optional, port, shutdownDrainVariable, text, url } from '@todo-auth/service-config'

export { ConfigError } from '@todo-auth/service-config'

const supportedAlgorithms = ['ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']

/**
 * Every environment variable todo-api reads, described once. The table in
 * docs/configuration.md (## todo-api) is rendered from it (node scripts/config-docs.ts).
 */
export const EnvSchema = Type.Object({
  HOST: text({ default: '127.0.0.1', description: 'Listen address.' }),
  PORT: port({ default: 3003, description: 'Listen port; `0` picks a free port (the `listening` log line gives the URL).' }),
  DATABASE_URL: optional(
    url({
      protocols: ['postgres:', 'postgresql:'],
      secret: true,
      example: 'postgres://todo:password@127.0.0.1:5432/todo',
      description:
        'PostgreSQL (a `?options=-c search_path=<schema>` parameter selects the schema). Unset: an embedded PGlite. Unreachable at start-up (5 s connect timeout): todo-api exits 1 with one line `{"event":"startup_failed","reason":"database_unreachable",…}` naming host, port and database (never the password); it never falls back to PGlite.',
    }),
  ),
  PGLITE_DATA_DIR: optional(
    text({ description: 'Only without `DATABASE_URL`: the data directory of the embedded PGlite (PostgreSQL in WebAssembly). Unset, in memory: every todo is lost when the process ends. One process per directory.' }),
  ),
  DATABASE_POOL_MAX: integer({ default: 10, minimum: 1, maximum: 100, description: 'PostgreSQL connections per process.' }),
  TOKEN_SERVICE_JWKS_URL: url({ default: 'http://127.0.0.1:3002/.well-known/jwks.json', description: "token-service's JWKS, the only source of verification keys. Redirects are refused." }),
  TOKEN_ISSUER: text({ default: 'http://localhost:8080', description: "Exact `iss` of accepted access tokens (token-service's `ISSUER`)." }),
  TOKEN_AUDIENCE: text({ default: 'todo-api', description: "This API's identifier; `aud` must be it." }),
  TOKEN_ALGORITHMS: list({
    default: 'ES256',
    minItems: 1,
    item: { expects: `an asymmetric JWS algorithm (${supportedAlgorithms.join(', ')})`, test: (alg) => supportedAlgorithms.includes(alg) },
    description: "JWS algorithms accepted on access tokens (token-service's `SIGNING_ALG`); `none` and `HS*` are refused at start-up.",
  }),
  TOKEN_CLOCK_TOLERANCE: duration({ unit: 'seconds', default: 30, minimum: 0, maximum: 300, description: 'Clock skew allowed on `exp`, `nbf` and `iat`.' }),
  JWKS_TIMEOUT_MS: duration({ unit: 'milliseconds', default: 5000, minimum: 100, maximum: 60_000, description: 'Timeout of one JWKS fetch.' }),
  JWKS_COOLDOWN_MS: duration({
    unit: 'milliseconds',
    default: 5000,
    minimum: 0,
    maximum: 600_000,
    description:
      'Cap of the unknown-`kid` refetch backoff (the first refetch is immediate, each one that finds nothing doubles the gap from 100 ms, one that finds the kid resets it; concurrent misses share one fetch), and a failed fetch is retried no sooner.',
  }),
  JWKS_DEFAULT_MAX_AGE_MS: duration({ unit: 'milliseconds', default: 300_000, minimum: 0, description: 'JWKS freshness when token-service sends no `Cache-Control: max-age` (its max-age is honoured, capped at 24 h; `ETag` revalidation).' }),
  JWKS_STALE_IF_ERROR_MS: duration({
    unit: 'milliseconds',
    default: 86_400_000,
    minimum: 0,
    description: 'While token-service is unreachable, keys already cached keep verifying this long past their freshness. With nothing cached, `/todos` answers 503 `ERR_AUTH_UNAVAILABLE` (never acceptance).',
  }),
  TRUST_PROXY: list({
    default: '',
    item: { expects: 'an IP address or CIDR', test: isAddressOrCidr },
    description: 'Addresses/CIDRs (the gateway) whose `X-Forwarded-Proto`/`-Host`/`-For` are believed; they decide the absolute `url` of each todo, `Location` and `Link`. Empty: trust none.',
  }),
  CORS_ORIGINS: corsOrigins({
    description: 'Origins of frontends on other origins allowed to call `/todos` (CORS; README "A frontend on another origin"). Empty: CORS off. `*` is refused. Credentials are never allowed: todo-api takes bearer tokens only.',
  }),
  BODY_LIMIT: integer({ unit: 'bytes', default: 65_536, minimum: 1024, maximum: 1_048_576, description: 'Largest request body; larger is 413.' }),
  LOG_LEVEL: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info', description: 'pino log level.' }),
  SHUTDOWN_DRAIN: shutdownDrainVariable(),
})

export type DatabaseConfig =
  | { readonly kind: 'postgres'; readonly url: string; readonly poolMax: number }
  /** dataDir undefined: in memory. */
  | { readonly kind: 'pglite'; readonly dataDir: string | undefined }

/** Reads, validates and freezes the configuration; throws one ConfigError listing every bad variable. */
export function loadConfig(env: Record<string, string | undefined>) {
  const values = loadEnv(EnvSchema, env, {
    rules: [notTogether('PGLITE_DATA_DIR', 'DATABASE_URL', 'it only applies to the embedded PGlite')],
  })
  const database: DatabaseConfig = values.DATABASE_URL !== undefined ? { kind: 'postgres', url: values.DATABASE_URL, poolMax: values.DATABASE_POOL_MAX } : { kind: 'pglite', dataDir: values.PGLITE_DATA_DIR }
  return Object.freeze({
    host: values.HOST,
    port: values.PORT,
    database: Object.freeze(database),
    token: Object.freeze({
      jwksUrl: values.TOKEN_SERVICE_JWKS_URL,
      issuer: values.TOKEN_ISSUER,
      audience: values.TOKEN_AUDIENCE,
      algorithms: values.TOKEN_ALGORITHMS,
      clockToleranceSec: values.TOKEN_CLOCK_TOLERANCE,
      jwksTimeoutMs: values.JWKS_TIMEOUT_MS,
      jwksCooldownMs: values.JWKS_COOLDOWN_MS,
      jwksDefaultMaxAgeMs: values.JWKS_DEFAULT_MAX_AGE_MS,
      jwksStaleIfErrorMs: values.JWKS_STALE_IF_ERROR_MS,
    }),
    /** Addresses/CIDRs for Fastify's trustProxy; empty: no proxy is trusted. */
    trustProxy: values.TRUST_PROXY,
    bodyLimit: values.BODY_LIMIT,
    corsOrigins: values.CORS_ORIGINS,
    logLevel: values.LOG_LEVEL,
    /** Graceful-shutdown drain (SHUTDOWN_DRAIN), milliseconds. */
    shutdownDrainMs: values.SHUTDOWN_DRAIN * 1000,
  })
}

/** The configuration's type, derived from the schema through loadConfig. */
export type TodoApiConfig = ReturnType<typeof loadConfig>
