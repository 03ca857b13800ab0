import { isIP } from 'node:net'
import { Type, type Static } from 'typebox'
import { Value } from 'typebox/value'

export const jwtAlgorithms = ['EdDSA', 'ES256', 'ES512', 'RS256', 'PS256'] as const
export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
const proxyKeywords = ['loopback', 'linklocal', 'uniquelocal'] as const

const oneOf = <const T extends string>(values: readonly T[], defaultValue: NoInfer<T>) =>
  Type.Unsafe<T>(Type.Union(values.map((v) => Type.Literal(v)), { default: defaultValue }))

const text = (defaultValue?: string) =>
  Type.String({ minLength: 1, pattern: '^\\S(.*\\S)?$', ...(defaultValue === undefined ? {} : { default: defaultValue }) })

/**
 * Every environment variable identity reads, in one schema. docs/configuration.md
 * (## identity) mirrors it. Anything the schema cannot express (URLs, lists)
 * is checked in loadConfig, and every problem is reported in one ConfigError.
 */
export const EnvSchema = Type.Object({
  HOST: text('127.0.0.1'),
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3001 }),
  DATABASE_URL: Type.Optional(text()),
  PGLITE_DATA_DIR: Type.Optional(text()),
  BETTER_AUTH_SECRET: Type.String({ minLength: 32 }),
  BETTER_AUTH_URL: text('http://localhost:8080'),
  JWT_ISSUER: text('http://localhost:8080/api/auth'),
  JWT_AUDIENCE: text('token-service'),
  JWT_ALG: oneOf(jwtAlgorithms, 'EdDSA'),
  JWT_TTL: Type.Integer({ minimum: 10, maximum: 3600, default: 300 }),
  TRUSTED_ORIGINS: text('http://localhost:8080,http://127.0.0.1:8080'),
  TRUST_PROXY: text('loopback'),
  RATE_LIMIT_ENABLED: Type.Boolean({ default: true }),
  LOG_LEVEL: oneOf(logLevels, 'info'),
})
type Env = Static<typeof EnvSchema>

/** better-auth reads these itself, behind our back; refusing them keeps this file the only reader. */
const refusedVariables: Record<string, string> = {
  BETTER_AUTH_TRUSTED_ORIGINS: 'not supported: use TRUSTED_ORIGINS',
  BETTER_AUTH_SECRETS: 'not supported: use BETTER_AUTH_SECRET',
}

export type JwtAlgorithm = (typeof jwtAlgorithms)[number]
export type LogLevel = (typeof logLevels)[number]
export type DatabaseConfig =
  | { readonly kind: 'postgres'; readonly url: string }
  /** dataDir undefined: in memory, gone when the process ends. */
  | { readonly kind: 'pglite'; readonly dataDir: string | undefined }

export interface IdentityConfig {
  readonly host: string
  readonly port: number
  readonly database: DatabaseConfig
  /** Not enumerable, so it never ends up in JSON or a log line by accident. */
  readonly secret: string
  /** Origin of the public base URL (the gateway); BetterAuth lives under `${baseURL}/api/auth`. */
  readonly baseURL: string
  readonly jwt: {
    readonly issuer: string
    readonly audience: string
    readonly alg: JwtAlgorithm
    readonly ttlSeconds: number
  }
  readonly trustedOrigins: readonly string[]
  /** Fastify/proxy-addr trust list; false: believe no X-Forwarded-* header. */
  readonly trustProxy: readonly string[] | false
  readonly rateLimitEnabled: boolean
  readonly logLevel: LogLevel
}

export interface ConfigProblem {
  variable: string
  message: string
}

export class ConfigError extends Error {
  readonly code = 'IDENTITY_CONFIG_INVALID'
  readonly problems: readonly ConfigProblem[]
  constructor(problems: ConfigProblem[]) {
    super(`invalid configuration: ${problems.map((p) => `${p.variable} ${p.message}`).join('; ')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

/** Reads, validates and freezes the configuration; throws one ConfigError listing every bad variable. */
export function loadConfig(env: Record<string, string | undefined>): IdentityConfig {
  const raw: Record<string, unknown> = {}
  for (const name of Object.keys(EnvSchema.properties)) {
    if (env[name] !== undefined) raw[name] = env[name]
  }
  const values = Value.Default(EnvSchema, Value.Convert(EnvSchema, raw)) as Env
  const problems = schemaProblems(values)
  const bad = new Set(problems.map((p) => p.variable))
  const check = (variable: keyof Env, message: string | undefined) => {
    if (message !== undefined && !bad.has(variable)) problems.push({ variable, message })
  }

  for (const [variable, message] of Object.entries(refusedVariables)) {
    if (env[variable] !== undefined) problems.push({ variable, message })
  }
  check('BETTER_AUTH_URL', originProblem(values.BETTER_AUTH_URL))
  check('JWT_ISSUER', absoluteUrlProblem(values.JWT_ISSUER))
  check('DATABASE_URL', values.DATABASE_URL === undefined ? undefined : databaseUrlProblem(values.DATABASE_URL))
  if (values.DATABASE_URL !== undefined && values.PGLITE_DATA_DIR !== undefined) {
    check('PGLITE_DATA_DIR', 'must not be set together with DATABASE_URL (it only applies to the embedded PGlite)')
  }
  const trustedOrigins = list(values.TRUSTED_ORIGINS)
  check('TRUSTED_ORIGINS', firstDefined(trustedOrigins.map((o) => originProblem(o, `"${o}"`))))
  const trustProxy = list(values.TRUST_PROXY)
  check('TRUST_PROXY', trustProxy.includes('none') && trustProxy.length > 1 ? '"none" cannot be combined with addresses' : firstDefined(trustProxy.map(proxyProblem)))
  if (problems.length > 0) throw new ConfigError(problems)

  const config = {
    host: values.HOST,
    port: values.PORT,
    database:
      values.DATABASE_URL !== undefined
        ? { kind: 'postgres' as const, url: values.DATABASE_URL }
        : { kind: 'pglite' as const, dataDir: values.PGLITE_DATA_DIR },
    baseURL: new URL(values.BETTER_AUTH_URL).origin,
    jwt: Object.freeze({
      issuer: values.JWT_ISSUER,
      audience: values.JWT_AUDIENCE,
      alg: values.JWT_ALG,
      ttlSeconds: values.JWT_TTL,
    }),
    trustedOrigins: Object.freeze(trustedOrigins),
    trustProxy: trustProxy.length === 1 && trustProxy[0] === 'none' ? (false as const) : Object.freeze(trustProxy),
    rateLimitEnabled: values.RATE_LIMIT_ENABLED,
    logLevel: values.LOG_LEVEL,
  }
  Object.defineProperty(config, 'secret', { value: values.BETTER_AUTH_SECRET, enumerable: false })
  return Object.freeze(config) as IdentityConfig
}

/** Checked variable by variable: one bad value must not hide the next (a whole-object check stops early). */
function schemaProblems(values: Env): ConfigProblem[] {
  const problems: ConfigProblem[] = []
  const required = new Set<string>(EnvSchema.required ?? [])
  for (const [variable, schema] of Object.entries(EnvSchema.properties)) {
    const value = (values as Record<string, unknown>)[variable]
    if (value === undefined) {
      if (required.has(variable)) problems.push({ variable, message: 'is required' })
    } else if (!Value.Check(schema, value)) {
      problems.push({ variable, message: describe(variable as keyof Env) })
    }
  }
  return problems
}

/** Messages never echo the value: it may be a secret. */
function describe(variable: keyof Env): string {
  const schema = EnvSchema.properties[variable] as { minimum?: number; maximum?: number; minLength?: number; anyOf?: { const: string }[]; type?: string }
  if (schema.anyOf) return `must be one of ${schema.anyOf.map((s) => s.const).join(', ')}`
  if (schema.type === 'integer') return `must be an integer from ${schema.minimum} to ${schema.maximum}`
  if (schema.type === 'boolean') return 'must be true or false'
  if (variable === 'BETTER_AUTH_SECRET') return `must be at least ${schema.minLength} characters`
  return 'must be a non-empty value without surrounding whitespace'
}

function list(value: string): string[] {
  return value.split(',').map((item) => item.trim()).filter((item) => item.length > 0)
}

function firstDefined(messages: (string | undefined)[]): string | undefined {
  return messages.find((m) => m !== undefined)
}

function originProblem(value: string, label = ''): string | undefined {
  const prefix = label ? `${label} ` : ''
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return `${prefix}must be an http(s) origin such as http://localhost:8080`
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `${prefix}must use http or https`
  if (value.includes('*') || url.origin !== value.replace(/\/$/, '')) return `${prefix}must be an origin only (scheme://host[:port], no path, query or wildcard)`
  return undefined
}

function absoluteUrlProblem(value: string): string | undefined {
  try {
    const url = new URL(value)
    if (url.protocol === 'http:' || url.protocol === 'https:') return undefined
  } catch {}
  return 'must be an absolute http(s) URL'
}

function databaseUrlProblem(value: string): string | undefined {
  try {
    const url = new URL(value)
    if (url.protocol === 'postgres:' || url.protocol === 'postgresql:') return undefined
  } catch {}
  return 'must be a postgres:// or postgresql:// URL (unset it to use the embedded PGlite)'
}

function proxyProblem(entry: string): string | undefined {
  if (entry === 'none' || (proxyKeywords as readonly string[]).includes(entry)) return undefined
  const [address, prefix, extra] = entry.split('/')
  const family = isIP(address ?? '')
  if (family !== 0 && extra === undefined) {
    if (prefix === undefined) return undefined
    const bits = Number(prefix)
    if (/^\d+$/.test(prefix) && bits <= (family === 4 ? 32 : 128)) return undefined
  }
  return `"${entry}" is not an IP address, a CIDR range, ${proxyKeywords.join(', ')} or none`
}
