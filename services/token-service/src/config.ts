import { isIP } from 'node:net'
import {
  bool,
  ConfigError,
  int,
  key256,
  list,
  oneOf,
  optionalStr,
  optionalUrl,
  readEnv,
  str,
  url,
  type EnvValues,
} from './config/env-reader.ts'
import { defaultClients, defaultWebOrigins, parseClients, type ClientConfig } from './config/clients.ts'

export { ConfigError } from './config/env-reader.ts'

/**
 * Every environment variable token-service reads, described once. The
 * documentation in docs/configuration.md mirrors these entries.
 */
export const envSpec = {
  DEPLOYMENT_MODE: oneOf('`production` refuses development-only settings (in-process store, insecure cookie, generated secrets).', ['development', 'production'], 'development'),
  HOST: str('Public listener address.', '127.0.0.1'),
  PORT: int('Public listener port (0 = any free port).', 3002, { min: 0, max: 65535 }),
  ADMIN_HOST: str('Admin listener address. Keep it on loopback or a private network: never route it through the gateway.', '127.0.0.1'),
  ADMIN_PORT: int('Admin listener port (0 = any free port).', 3102, { min: 0, max: 65535 }),
  ADMIN_TOKEN: optionalStr('Bearer token for the admin API; at least 32 characters. Without it the admin listener does not start (and production refuses to start).', { secret: true }),
  LOG_LEVEL: oneOf('pino log level.', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
  TRUST_PROXY: list('Comma-separated proxy addresses/CIDRs whose X-Forwarded-* headers are believed (the gateway). Empty: trust none.', []),
  ISSUER: url('`iss` of our access tokens and the RFC 8414 issuer; the public origin clients reach us at.', 'http://localhost:8080'),
  AUDIENCES: list('Audiences (resource servers) tokens may be issued for; the first is the default.', ['todo-api']),
  CLIENTS: optionalStr('Registered clients as a JSON array (docs/configuration.md#clients). Default: `web` (cookie) and `cli` (body).'),
  WEB_ALLOWED_ORIGINS: list('Allowed origins of the default `web` client (ignored when CLIENTS is set).', defaultWebOrigins),
  SIGNING_ALG: oneOf('Algorithm of our signing keys.', ['ES256', 'EdDSA', 'RS256'], 'ES256'),
  ACCESS_TOKEN_TTL: int('Access-token lifetime in seconds.', 900, { min: 30, max: 86_400 }),
  REFRESH_TOKEN_TTL: int('Absolute session (refresh-token family) lifetime in seconds; refreshing never extends it.', 604_800, { min: 60 }),
  REFRESH_IDLE_TTL: int('A session unused for this many seconds ends (idle expiry).', 259_200, { min: 60 }),
  REFRESH_REUSE_GRACE: int('Seconds during which a repeat of a just-spent refresh token returns the same successor instead of revoking the session.', 10, { min: 0, max: 300 }),
  CLOCK_TOLERANCE: int('Clock skew tolerated when checking exp/nbf/iat, in seconds.', 30, { min: 0, max: 300 }),
  KEY_ENCRYPTION_KEY: key256('AES-256-GCM key-encryption key for private signing keys at rest: 64 hex or 43 base64url characters. Required unless DEPLOYMENT_MODE=development with the in-process store.'),
  KEY_ROTATION_INTERVAL: int('Seconds between scheduled key rotations.', 2_592_000, { min: 60 }),
  JWKS_MAX_AGE: int('Upper bound of the JWKS Cache-Control max-age in seconds; a next key is published at least this plus KEY_PUBLISH_MARGIN before it signs.', 600, { min: 1, max: 86_400 }),
  KEY_PUBLISH_MARGIN: int('Extra seconds a next key stays published before it may sign.', 60, { min: 0 }),
  KEY_ENCRYPTION_KEY_PREVIOUS: key256('The previous key-encryption key, set only while re-encrypting stored private keys under a new KEY_ENCRYPTION_KEY (docs/operations.md). Keys sealed under either are readable.'),
  KEY_RELOAD_INTERVAL: int('Seconds between periodic reloads of the key set (heals a missed change notification; also checks whether a scheduled rotation is due). Keep it below KEY_PUBLISH_MARGIN.', 10, { min: 1, max: 3600 }),
  REDIS_URL: optionalUrl('Redis for keys, sessions and rate limits (redis://…). Unset: an in-process store (development only; state is lost on exit and not shared between instances).', ['redis:', 'rediss:']),
  REDIS_PREFIX: str('Prefix of every Redis key this service writes.', 'ts:'),
  BETTER_AUTH_JWKS_URL: url("BetterAuth's JWKS.", 'http://127.0.0.1:3001/api/auth/jwks'),
  BETTER_AUTH_ISSUER: str('Expected `iss` of BetterAuth JWTs (exact match).', 'http://localhost:8080/api/auth'),
  BETTER_AUTH_AUDIENCE: str('Expected `aud` of BetterAuth JWTs.', 'token-service'),
  BETTER_AUTH_ALGORITHMS: list('Algorithms accepted on BetterAuth JWTs (never none or HS*).', ['EdDSA']),
  BETTER_AUTH_JWKS_TIMEOUT: int('Timeout of one BetterAuth JWKS fetch, milliseconds.', 3000, { min: 100, max: 60_000 }),
  BETTER_AUTH_JWKS_COOLDOWN: int('Minimum milliseconds between unknown-kid refetches of the BetterAuth JWKS.', 5000, { min: 0, max: 600_000 }),
  BETTER_AUTH_JWKS_STALE_IF_ERROR: int('Seconds the last good BetterAuth JWKS keeps serving while BetterAuth is unreachable.', 3600, { min: 0 }),
  SUBJECT_TOKEN_MAX_AGE: int('Oldest accepted BetterAuth JWT (seconds since its iat).', 900, { min: 10 }),
  COOKIE_SECURE: bool('Secure attribute (and __Secure- prefix) of the refresh cookie; false only for plain-http local development.', true),
  RATE_LIMIT_MAX: int('Requests per client IP per window on /oauth/token and /oauth/revoke.', 60, { min: 1 }),
  RATE_LIMIT_WINDOW: int('Rate-limit window in seconds.', 60, { min: 1 }),
  ADMIN_RATE_LIMIT_MAX: int('Admin API requests per client IP per minute.', 30, { min: 1 }),
} as const

type Env = EnvValues<typeof envSpec>

export interface Config extends Omit<Env, 'CLIENTS' | 'WEB_ALLOWED_ORIGINS'> {
  readonly clients: readonly ClientConfig[]
  /** Name of the refresh cookie: `__Secure-` prefixed when COOKIE_SECURE (RFC 6265bis §4.1.3.1). */
  readonly refreshCookieName: string
}

/** Reads, validates and freezes the configuration; throws one ConfigError listing every problem. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const values = readEnv(envSpec, env)
  const problems: string[] = []
  let clients: ClientConfig[] = []
  try {
    clients = values.CLIENTS ? parseClients(values.CLIENTS, values.AUDIENCES) : defaultClients(values.WEB_ALLOWED_ORIGINS, values.AUDIENCES)
  } catch (error) {
    problems.push(`CLIENTS: ${(error as Error).message}`)
  }
  // Each entry goes to Fastify's trustProxy: a word like `true` must be refused here, not half-parsed there (R58).
  for (const entry of values.TRUST_PROXY) {
    if (!isAddressOrCidr(entry)) problems.push(`TRUST_PROXY: ${JSON.stringify(entry)} is not an IP address or CIDR`)
  }
  if (values.ADMIN_TOKEN !== undefined && values.ADMIN_TOKEN.length < 32) problems.push('ADMIN_TOKEN: must be at least 32 characters')
  if (values.REFRESH_IDLE_TTL > values.REFRESH_TOKEN_TTL) problems.push('REFRESH_IDLE_TTL: must not exceed REFRESH_TOKEN_TTL')
  if (values.JWKS_MAX_AGE + values.KEY_PUBLISH_MARGIN >= values.KEY_ROTATION_INTERVAL) {
    problems.push('KEY_ROTATION_INTERVAL: must exceed JWKS_MAX_AGE + KEY_PUBLISH_MARGIN (a next key must be published before it signs)')
  }
  for (const alg of values.BETTER_AUTH_ALGORITHMS) {
    if (!['EdDSA', 'ES256', 'ES384', 'ES512', 'RS256', 'PS256'].includes(alg)) {
      problems.push(`BETTER_AUTH_ALGORITHMS: ${JSON.stringify(alg)} is not an asymmetric JWS algorithm BetterAuth signs with`)
    }
  }
  if (values.DEPLOYMENT_MODE === 'production') {
    if (!values.REDIS_URL) problems.push('REDIS_URL: required in production (the in-process store is for development only)')
    if (!values.COOKIE_SECURE) problems.push('COOKIE_SECURE: must be true in production')
    if (!values.ADMIN_TOKEN) problems.push('ADMIN_TOKEN: required in production')
  }
  if (!values.KEY_ENCRYPTION_KEY && values.REDIS_URL) problems.push('KEY_ENCRYPTION_KEY: required when REDIS_URL is set (private keys are encrypted at rest)')
  if (values.KEY_ENCRYPTION_KEY_PREVIOUS && !values.KEY_ENCRYPTION_KEY) problems.push('KEY_ENCRYPTION_KEY_PREVIOUS: only meaningful together with a new KEY_ENCRYPTION_KEY')
  if (problems.length > 0) throw new ConfigError(problems)

  const { CLIENTS: _clients, WEB_ALLOWED_ORIGINS: _origins, ...rest } = values
  return Object.freeze({
    ...rest,
    clients: Object.freeze(clients),
    refreshCookieName: values.COOKIE_SECURE ? '__Secure-refresh_token' : 'refresh_token',
  })
}

/** `10.0.0.1`, `::1`, `10.0.0.0/8`: what proxy-addr takes as an address; nothing it would read as a name or a hop count. */
function isAddressOrCidr(entry: string): boolean {
  const [address, bits, ...rest] = entry.split('/')
  if (rest.length > 0 || address === undefined) return false
  const family = isIP(address)
  if (family === 0) return false
  if (bits === undefined) return true
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128)
}
