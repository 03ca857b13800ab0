import { Type } from 'typebox'
import {
  boolean,
  checked,
  ConfigErrorCode,
  configProblem,
  duration,
  isAddressOrCidr,
  isOrigin,
  list,
  loadEnv,
  notTogether,
  oneOf,
  optional,
  port,
  shutdownDrainVariable,
  text,
  url,
  type ConfigRule,
  type Validator,
} from '@todo-auth/service-config'

export { ConfigError } from '@todo-auth/service-config'

export const jwtAlgorithms = ['EdDSA', 'ES256', 'ES512', 'RS256', 'PS256'] as const
export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
const proxyKeywords = ['loopback', 'linklocal', 'uniquelocal', 'none']

/** An origin; a trailing slash (as in a pasted base URL) is accepted and dropped where the origin is used. */
const origin: Validator = {
  expects: 'an http(s) origin such as http://localhost:8080 (no path, query or wildcard)',
  test: (value) => isOrigin(value.replace(/\/$/, '')),
}
const proxy: Validator = {
  expects: `an IP address, a CIDR range, ${proxyKeywords.join(', ')}`,
  test: (entry) => proxyKeywords.includes(entry) || isAddressOrCidr(entry),
}

/**
 * Every environment variable identity reads, described once. The table in
 * docs/configuration.md (## identity) is rendered from it (node scripts/config-docs.ts).
 */
export const EnvSchema = Type.Object({
  HOST: text({ trimmed: true, default: '127.0.0.1', description: 'Listen address.' }),
  PORT: port({ default: 3001, description: 'Listen port; `0` picks a free port (the `listening` log line gives the URL).' }),
  DATABASE_URL: optional(
    url({
      protocols: ['postgres:', 'postgresql:'],
      secret: true,
      example: 'postgres://identity:password@127.0.0.1:5432/identity',
      description:
        'PostgreSQL server. A `?options=-c search_path=<schema>` parameter selects the schema. If the server cannot be reached at start-up (5 s connect timeout), identity exits 1 with one line `{"event":"database_unreachable",…}`; it **never** falls back to PGlite. Set but empty is an error.',
    }),
  ),
  PGLITE_DATA_DIR: optional(
    text({
      trimmed: true,
      description:
        'Only without `DATABASE_URL`: identity then runs an embedded PGlite (PostgreSQL in WebAssembly). Unset, the database lives in memory and **every user, session and key is lost when the process ends**; set it to a directory to keep them. One process per directory. Setting it together with `DATABASE_URL` is an error.',
    }),
  ),
  BETTER_AUTH_SECRET: text({
    minLength: 32,
    secret: true,
    example: 'openssl rand -base64 32',
    description:
      'Signs session cookies and encrypts the JWT private key at rest. Never logged. Changing it makes the stored signing key unreadable: identity then refuses to start (`IDENTITY_SIGNING_KEY_UNUSABLE`) instead of failing every `/api/auth/token` call.',
  }),
  BETTER_AUTH_URL: checked(origin, {
    default: 'http://localhost:8080',
    description: "Public origin (the gateway), no path. BetterAuth's base URL; its origin is always trusted. `https://` turns on `Secure` cookies with the `__Secure-` prefix.",
  }),
  JWT_ISSUER: url({ default: 'http://localhost:8080/api/auth', description: '`iss` of the JWTs, matched exactly by token-service (`BETTER_AUTH_ISSUER`).' }),
  JWT_AUDIENCE: text({ trimmed: true, default: 'token-service', description: "`aud` of the JWTs (token-service's `BETTER_AUTH_AUDIENCE`)." }),
  JWT_ALG: oneOf(jwtAlgorithms, { default: 'EdDSA', description: '`EdDSA` is Ed25519. Changing it adds a key of the new algorithm at the next start; the old key stays in the JWKS.' }),
  JWT_TTL: duration({ unit: 'seconds', default: 300, minimum: 10, maximum: 3600, description: 'JWT lifetime. A subject token only has to live until it is exchanged.' }),
  TRUSTED_ORIGINS: list({ default: 'http://localhost:8080,http://127.0.0.1:8080', minItems: 1, item: origin, description: "Origins allowed to send cookie-carrying or browser POSTs (BetterAuth's Origin/CSRF check)." }),
  TRUST_PROXY: list({
    default: 'loopback',
    minItems: 1,
    item: proxy,
    check: (entries) => (entries.includes('none') && entries.length > 1 ? '"none" cannot be combined with addresses' : undefined),
    description: 'Proxies whose `X-Forwarded-For` is believed; `none` believes nobody. The resulting client address is what rate limits and session records use.',
  }),
  RATE_LIMIT_ENABLED: boolean({
    default: true,
    description:
      "BetterAuth's rate limiter (in memory, per instance): sign-in/sign-up 3 per 10 s per client and path, others 100 per 10 s; answers 429 with `Retry-After`. `packages/testkit`'s `startIdentity` turns it off, since every test client shares one address.",
  }),
  LOG_LEVEL: oneOf(logLevels, { default: 'info', description: 'pino log level.' }),
  TOKEN_SERVICE_ADMIN_URL: optional(
    url({
      example: 'http://token-service:3102',
      description:
        "token-service's admin listener (its `ADMIN_HOST`:`ADMIN_PORT`), reachable from identity and never through the gateway. With it, banning, deleting, a password change or reset and revoking all of a user's sessions in BetterAuth end every token-service session of the user (docs/sessions.md). Unset: they do not, and an operator must call the admin API.",
    }),
  ),
  TOKEN_SERVICE_ADMIN_TOKEN: optional(
    text({ minLength: 32, secret: true, example: "token-service's ADMIN_TOKEN", description: "token-service's `ADMIN_TOKEN`, sent as the bearer token of those calls. Never logged. Required with `TOKEN_SERVICE_ADMIN_URL`." }),
  ),
  SHUTDOWN_DRAIN: shutdownDrainVariable(),
})

/** better-auth reads these itself, behind our back; refusing them keeps this file the only reader. */
const unsupported = {
  BETTER_AUTH_TRUSTED_ORIGINS: 'not supported: use TRUSTED_ORIGINS',
  BETTER_AUTH_SECRETS: 'not supported: use BETTER_AUTH_SECRET',
}

export type JwtAlgorithm = (typeof jwtAlgorithms)[number]
export type LogLevel = (typeof logLevels)[number]
export type DatabaseConfig =
  | { readonly kind: 'postgres'; readonly url: string }
  /** dataDir undefined: in memory, gone when the process ends. */
  | { readonly kind: 'pglite'; readonly dataDir: string | undefined }

/** Reads, validates and freezes the configuration; throws one ConfigError listing every bad variable. */
export function loadConfig(env: Record<string, string | undefined>) {
  // Set but empty is an error here: an empty DATABASE_URL must never fall back to PGlite silently.
  const values = loadEnv(EnvSchema, env, {
    emptyIsUnset: false,
    unsupported,
    rules: [notTogether('PGLITE_DATA_DIR', 'DATABASE_URL', 'it only applies to the embedded PGlite'), bothOrNeither('TOKEN_SERVICE_ADMIN_URL', 'TOKEN_SERVICE_ADMIN_TOKEN')],
  })
  const database: DatabaseConfig = values.DATABASE_URL !== undefined ? { kind: 'postgres', url: values.DATABASE_URL } : { kind: 'pglite', dataDir: values.PGLITE_DATA_DIR }
  const trustProxy = values.TRUST_PROXY
  const config = {
    host: values.HOST,
    port: values.PORT,
    database: Object.freeze(database),
    /** Not enumerable, so it never ends up in JSON or a log line by accident. */
    secret: values.BETTER_AUTH_SECRET,
    /** Origin of the public base URL (the gateway); BetterAuth lives under `${baseURL}/api/auth`. */
    baseURL: new URL(values.BETTER_AUTH_URL).origin,
    jwt: Object.freeze({
      issuer: values.JWT_ISSUER,
      audience: values.JWT_AUDIENCE,
      alg: values.JWT_ALG,
      ttlSeconds: values.JWT_TTL,
    }),
    trustedOrigins: values.TRUSTED_ORIGINS,
    /** Fastify/proxy-addr trust list; false: believe no X-Forwarded-* header. */
    trustProxy: trustProxy.length === 1 && trustProxy[0] === 'none' ? (false as const) : trustProxy,
    rateLimitEnabled: values.RATE_LIMIT_ENABLED,
    logLevel: values.LOG_LEVEL,
    /** Where session-ending events go (session-events/session-event-relay.ts); undefined: nowhere. */
    tokenServiceAdmin: values.TOKEN_SERVICE_ADMIN_URL !== undefined && values.TOKEN_SERVICE_ADMIN_TOKEN !== undefined ? adminChannel(values.TOKEN_SERVICE_ADMIN_URL, values.TOKEN_SERVICE_ADMIN_TOKEN) : undefined,
    /** Graceful-shutdown drain (SHUTDOWN_DRAIN), milliseconds. */
    shutdownDrainMs: values.SHUTDOWN_DRAIN * 1000,
  }
  Object.defineProperty(config, 'secret', { enumerable: false })
  return Object.freeze(config)
}

/** The token is not enumerable, so it never ends up in JSON or a log line by accident. */
function adminChannel(url: string, token: string): { readonly url: string; readonly token: string } {
  return Object.freeze(Object.defineProperty({ url: url.replace(/\/+$/, '') }, 'token', { value: token, enumerable: false }) as { url: string; token: string })
}

/** A rule: `variable` is required when `other` is set, and the reverse. */
function bothOrNeither<V>(variable: keyof V & string, other: keyof V & string): ConfigRule<V> {
  return (values) =>
    values[variable] !== undefined && values[other] === undefined
      ? configProblem(other, `is required with ${variable}`, ConfigErrorCode.missing)
      : values[other] !== undefined && values[variable] === undefined
        ? configProblem(variable, `is required with ${other}`, ConfigErrorCode.missing)
        : undefined
}

/** The configuration's type, derived from the schema through loadConfig. */
export type IdentityConfig = ReturnType<typeof loadConfig>
