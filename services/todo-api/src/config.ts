import { isIP } from 'node:net'
import envSchema from 'env-schema'
import Type from 'typebox'

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

/**
 * Every environment variable todo-api reads, in one schema. docs/configuration.md
 * (## todo-api) mirrors it. What a schema cannot express (URLs, address lists)
 * is checked in loadConfig, and every problem is reported at once.
 */
export const EnvSchema = Type.Object({
  HOST: Type.String({ minLength: 1, default: '127.0.0.1', description: 'Listen address.' }),
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3003, description: 'Listen port (0 = any free port).' }),
  DATABASE_URL: Type.Optional(Type.String({ minLength: 1, description: 'PostgreSQL connection string. Unset: embedded PGlite.' })),
  PGLITE_DATA_DIR: Type.Optional(Type.String({ minLength: 1, description: 'Data directory of the embedded PGlite. Unset: in memory (lost on exit).' })),
  DATABASE_POOL_MAX: Type.Integer({ minimum: 1, maximum: 100, default: 10, description: 'PostgreSQL pool size.' }),
  TOKEN_SERVICE_JWKS_URL: Type.String({ default: 'http://127.0.0.1:3002/.well-known/jwks.json', description: "token-service's JWKS." }),
  TOKEN_ISSUER: Type.String({ minLength: 1, default: 'http://localhost:8080', description: 'Exact `iss` of accepted access tokens.' }),
  TOKEN_AUDIENCE: Type.String({ minLength: 1, default: 'todo-api', description: 'This API’s identifier; `aud` must contain it.' }),
  TOKEN_ALGORITHMS: Type.String({ minLength: 1, default: 'ES256', description: 'Comma-separated JWS algorithms accepted on access tokens (never none or HS*).' }),
  TOKEN_CLOCK_TOLERANCE: Type.Integer({ minimum: 0, maximum: 300, default: 30, description: 'Seconds of clock skew tolerated on exp/nbf/iat.' }),
  JWKS_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 60_000, default: 5000, description: 'Timeout of one JWKS fetch.' }),
  JWKS_COOLDOWN_MS: Type.Integer({ minimum: 0, maximum: 600_000, default: 5000, description: 'Minimum gap between refetches triggered by unknown kids (and retries after a failure).' }),
  JWKS_DEFAULT_MAX_AGE_MS: Type.Integer({ minimum: 0, default: 300_000, description: 'JWKS freshness when the response has no Cache-Control max-age.' }),
  JWKS_STALE_IF_ERROR_MS: Type.Integer({ minimum: 0, default: 86_400_000, description: 'How long past freshness cached keys keep verifying while token-service is unreachable.' }),
  TRUST_PROXY: Type.String({ default: '', description: 'Comma-separated proxy addresses/CIDRs whose X-Forwarded-Proto/-Host/-For are believed (the gateway). Empty: trust none.' }),
  BODY_LIMIT: Type.Integer({ minimum: 1024, maximum: 1_048_576, default: 65_536, description: 'Largest request body in bytes (larger: 413).' }),
  LOG_LEVEL: Type.Union(logLevels.map((level) => Type.Literal(level)), { default: 'info', description: 'pino log level.' }),
})
type Env = Type.Static<typeof EnvSchema>

export type DatabaseConfig =
  | { readonly kind: 'postgres'; readonly url: string; readonly poolMax: number }
  /** dataDir undefined: in memory. */
  | { readonly kind: 'pglite'; readonly dataDir: string | undefined }

export interface TodoApiConfig {
  readonly host: string
  readonly port: number
  readonly database: DatabaseConfig
  readonly token: {
    readonly jwksUrl: string
    readonly issuer: string
    readonly audience: string
    readonly algorithms: readonly string[]
    readonly clockToleranceSec: number
    readonly jwksTimeoutMs: number
    readonly jwksCooldownMs: number
    readonly jwksDefaultMaxAgeMs: number
    readonly jwksStaleIfErrorMs: number
  }
  /** Addresses/CIDRs for Fastify's trustProxy; empty: no proxy is trusted. */
  readonly trustProxy: readonly string[]
  readonly bodyLimit: number
  readonly logLevel: (typeof logLevels)[number]
}

export class ConfigError extends Error {
  override name = 'ConfigError'
  readonly problems: readonly string[]
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`)
    this.problems = problems
  }
}

const supportedAlgorithms = new Set(['ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'])
const list = (value: string) => value.split(',').map((s) => s.trim()).filter((s) => s.length > 0)

function isAddressOrCidr(entry: string): boolean {
  const [address, bits, ...rest] = entry.split('/')
  if (rest.length > 0 || address === undefined) return false
  const family = isIP(address)
  if (family === 0) return false
  if (bits === undefined) return true
  if (!/^\d{1,3}$/.test(bits)) return false
  return Number(bits) <= (family === 4 ? 32 : 128)
}

function httpUrl(value: string): boolean {
  try {
    const url = new URL(value)
    return url.protocol === 'http:' || url.protocol === 'https:'
  } catch {
    return false
  }
}

/** Reads, validates and freezes the configuration; throws one ConfigError listing every problem. */
export function loadConfig(env: Record<string, string | undefined>): TodoApiConfig {
  const problems: string[] = []
  const data: Record<string, string> = {}
  for (const name of Object.keys(EnvSchema.properties)) {
    const value = env[name]
    if (value !== undefined && value !== '') data[name] = value
  }
  let values: Env | undefined
  try {
    values = envSchema<Env>({ schema: EnvSchema, data: [{ ...data }], env: false })
  } catch (error) {
    const errors = (error as { errors?: Array<{ instancePath: string; message?: string }> }).errors ?? []
    for (const e of errors) problems.push(`${e.instancePath.replace(/^\//, '') || 'env'}: ${e.message ?? 'invalid'}`)
    if (errors.length === 0) problems.push((error as Error).message)
  }
  // What the schema cannot express, checked on the raw values so that every problem is reported together.
  const raw = (name: keyof typeof EnvSchema.properties): string | undefined =>
    data[name] ?? (EnvSchema.properties[name] as { default?: unknown }).default?.toString()
  if (!httpUrl(raw('TOKEN_SERVICE_JWKS_URL') ?? '')) problems.push('TOKEN_SERVICE_JWKS_URL: must be an http(s) URL')
  const databaseUrl = raw('DATABASE_URL')
  if (databaseUrl !== undefined) {
    try {
      const url = new URL(databaseUrl)
      if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') problems.push('DATABASE_URL: must be a postgres:// URL')
    } catch {
      problems.push('DATABASE_URL: must be a postgres:// URL')
    }
    if (raw('PGLITE_DATA_DIR') !== undefined) problems.push('PGLITE_DATA_DIR: set only when DATABASE_URL is unset')
  }
  const algorithms = list(raw('TOKEN_ALGORITHMS') ?? '')
  if (algorithms.length === 0) problems.push('TOKEN_ALGORITHMS: at least one algorithm')
  for (const alg of algorithms) {
    if (!supportedAlgorithms.has(alg)) problems.push(`TOKEN_ALGORITHMS: ${JSON.stringify(alg)} is not an allowed asymmetric JWS algorithm`)
  }
  const trustProxy = list(raw('TRUST_PROXY') ?? '')
  for (const entry of trustProxy) {
    if (!isAddressOrCidr(entry)) problems.push(`TRUST_PROXY: ${JSON.stringify(entry)} is not an IP address or CIDR`)
  }
  if (problems.length > 0 || values === undefined) throw new ConfigError(problems)

  const database: DatabaseConfig =
    values.DATABASE_URL !== undefined
      ? { kind: 'postgres', url: values.DATABASE_URL, poolMax: values.DATABASE_POOL_MAX }
      : { kind: 'pglite', dataDir: values.PGLITE_DATA_DIR }
  return Object.freeze({
    host: values.HOST,
    port: values.PORT,
    database: Object.freeze(database),
    token: Object.freeze({
      jwksUrl: values.TOKEN_SERVICE_JWKS_URL,
      issuer: values.TOKEN_ISSUER,
      audience: values.TOKEN_AUDIENCE,
      algorithms: Object.freeze(algorithms),
      clockToleranceSec: values.TOKEN_CLOCK_TOLERANCE,
      jwksTimeoutMs: values.JWKS_TIMEOUT_MS,
      jwksCooldownMs: values.JWKS_COOLDOWN_MS,
      jwksDefaultMaxAgeMs: values.JWKS_DEFAULT_MAX_AGE_MS,
      jwksStaleIfErrorMs: values.JWKS_STALE_IF_ERROR_MS,
    }),
    trustProxy: Object.freeze(trustProxy),
    bodyLimit: values.BODY_LIMIT,
    logLevel: values.LOG_LEVEL,
  })
}
