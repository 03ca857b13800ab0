import t from 'tap'
import { ConfigError, loadConfig } from '../src/config.ts'

const secret = 's'.repeat(40)

const problemsOf = (env: Record<string, string>) => {
  try {
    loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return error.errors
    throw error
  }
  return []
}

t.test('defaults match the shared defaults and the embedded in-memory PGlite', async (t) => {
  const config = loadConfig({ BETTER_AUTH_SECRET: secret })
  t.equal(config.host, '127.0.0.1')
  t.equal(config.port, 3001)
  t.same(config.database, { kind: 'pglite', dataDir: undefined })
  t.equal(config.baseURL, 'http://localhost:8080')
  t.same(config.jwt, { issuer: 'http://localhost:8080/api/auth', audience: 'token-service', alg: 'EdDSA', ttlSeconds: 300 })
  t.same(config.trustedOrigins, ['http://localhost:8080', 'http://127.0.0.1:8080'])
  t.same(config.trustProxy, ['loopback'])
  t.equal(config.rateLimitEnabled, true)
  t.equal(config.logLevel, 'info')
  t.ok(Object.isFrozen(config))
})

t.test('the secret is readable but never serialised', async (t) => {
  const config = loadConfig({ BETTER_AUTH_SECRET: secret })
  t.equal(config.secret, secret)
  t.notMatch(JSON.stringify(config), secret)
  t.notOk(Object.keys(config).includes('secret'))
})

t.test('every variable is read and converted', async (t) => {
  const config = loadConfig({
    HOST: '0.0.0.0',
    PORT: '0',
    DATABASE_URL: 'postgres://u:p@db:5432/identity',
    BETTER_AUTH_SECRET: secret,
    BETTER_AUTH_URL: 'https://app.example.com/',
    JWT_ISSUER: 'https://app.example.com/api/auth',
    JWT_AUDIENCE: 'aud-1',
    JWT_ALG: 'RS256',
    JWT_TTL: '60',
    TRUSTED_ORIGINS: 'https://app.example.com, https://admin.example.com',
    TRUST_PROXY: '10.0.0.0/8,::1,loopback',
    RATE_LIMIT_ENABLED: 'false',
    LOG_LEVEL: 'debug',
  })
  t.equal(config.port, 0)
  t.same(config.database, { kind: 'postgres', url: 'postgres://u:p@db:5432/identity' })
  t.equal(config.baseURL, 'https://app.example.com')
  t.same(config.jwt, { issuer: 'https://app.example.com/api/auth', audience: 'aud-1', alg: 'RS256', ttlSeconds: 60 })
  t.same(config.trustedOrigins, ['https://app.example.com', 'https://admin.example.com'])
  t.same(config.trustProxy, ['10.0.0.0/8', '::1', 'loopback'])
  t.equal(config.rateLimitEnabled, false)
  t.equal(config.logLevel, 'debug')
})

t.test('PGLITE_DATA_DIR chooses a persistent embedded database', async (t) => {
  t.same(loadConfig({ BETTER_AUTH_SECRET: secret, PGLITE_DATA_DIR: '/var/lib/identity' }).database, { kind: 'pglite', dataDir: '/var/lib/identity' })
})

t.test('TRUST_PROXY=none believes no forwarded header', async (t) => {
  t.equal(loadConfig({ BETTER_AUTH_SECRET: secret, TRUST_PROXY: 'none' }).trustProxy, false)
})

t.test('every bad variable is reported at once, without echoing values', async (t) => {
  const problems = problemsOf({
    PORT: 'eighty',
    BETTER_AUTH_SECRET: 'too-short-secret-value',
    JWT_ALG: 'none',
    JWT_TTL: '0',
    TRUSTED_ORIGINS: 'http://ok.example,https://*.example.com',
    TRUST_PROXY: '10.0.0.0/99',
    LOG_LEVEL: 'loud',
    BETTER_AUTH_URL: 'localhost:8080',
  })
  t.same(problems.map((p) => p.variable).sort(), ['BETTER_AUTH_SECRET', 'BETTER_AUTH_URL', 'JWT_ALG', 'JWT_TTL', 'LOG_LEVEL', 'PORT', 'TRUSTED_ORIGINS', 'TRUST_PROXY'])
  t.notMatch(JSON.stringify(problems), 'too-short-secret-value')
  t.match(problems.find((p) => p.variable === 'JWT_ALG')!.message, 'EdDSA, ES256, ES512, RS256, PS256')
})

t.test('a missing secret is reported', async (t) => {
  t.same(problemsOf({}), [{ variable: 'BETTER_AUTH_SECRET', code: 'ERR_CONFIG_MISSING', message: 'is required' }])
})

t.test('bad values are refused one by one', async (t) => {
  const cases: [string, Record<string, string>][] = [
    ['an empty DATABASE_URL (never a silent fallback to PGlite)', { DATABASE_URL: '' }],
    ['a non-postgres DATABASE_URL', { DATABASE_URL: 'mysql://db/x' }],
    ['PGLITE_DATA_DIR together with DATABASE_URL', { DATABASE_URL: 'postgres://db/x', PGLITE_DATA_DIR: '/tmp/x' }],
    ['a port out of range', { PORT: '70000' }],
    ['an HMAC algorithm', { JWT_ALG: 'HS256' }],
    ['a relative issuer', { JWT_ISSUER: '/api/auth' }],
    ['an issuer with surrounding whitespace', { JWT_ISSUER: ' http://localhost:8080/api/auth' }],
    ['an empty audience', { JWT_AUDIENCE: '' }],
    ['a base URL with a path', { BETTER_AUTH_URL: 'http://localhost:8080/api/auth' }],
    ['an origin with a path', { TRUSTED_ORIGINS: 'http://localhost:8080/app' }],
    ['a non-http origin', { TRUSTED_ORIGINS: 'chrome-extension://abc' }],
    ['a proxy name', { TRUST_PROXY: 'gateway.internal' }],
    ['none mixed with addresses', { TRUST_PROXY: 'none,127.0.0.1' }],
    ['a non-boolean flag', { RATE_LIMIT_ENABLED: 'maybe' }],
    ["better-auth's own origin variable", { BETTER_AUTH_TRUSTED_ORIGINS: 'http://evil.example' }],
    ["better-auth's own secrets variable", { BETTER_AUTH_SECRETS: '1:abc' }],
  ]
  for (const [name, env] of cases) {
    const problems = problemsOf({ BETTER_AUTH_SECRET: secret, ...env })
    t.equal(problems.length, 1, `${name}: ${JSON.stringify(problems)}`)
  }
})

t.test('the token-service admin channel needs its URL and its token together; the token is never serialised', async (t) => {
  t.equal(loadConfig({ BETTER_AUTH_SECRET: secret }).tokenServiceAdmin, undefined, 'unset: no channel')
  const token = 'a'.repeat(32)
  const config = loadConfig({ BETTER_AUTH_SECRET: secret, TOKEN_SERVICE_ADMIN_URL: 'http://token-service:3102/', TOKEN_SERVICE_ADMIN_TOKEN: token })
  t.equal(config.tokenServiceAdmin?.url, 'http://token-service:3102')
  t.equal(config.tokenServiceAdmin?.token, token)
  t.notMatch(JSON.stringify(config), token)
  t.same(problemsOf({ BETTER_AUTH_SECRET: secret, TOKEN_SERVICE_ADMIN_URL: 'http://token-service:3102' }), [{ variable: 'TOKEN_SERVICE_ADMIN_TOKEN', code: 'ERR_CONFIG_MISSING', message: 'is required with TOKEN_SERVICE_ADMIN_URL' }])
  t.same(problemsOf({ BETTER_AUTH_SECRET: secret, TOKEN_SERVICE_ADMIN_TOKEN: token }), [{ variable: 'TOKEN_SERVICE_ADMIN_URL', code: 'ERR_CONFIG_MISSING', message: 'is required with TOKEN_SERVICE_ADMIN_TOKEN' }])
  const short = problemsOf({ BETTER_AUTH_SECRET: secret, TOKEN_SERVICE_ADMIN_URL: 'ftp://x', TOKEN_SERVICE_ADMIN_TOKEN: 'short-admin-token' })
  t.same(short.map((p) => p.variable).sort(), ['TOKEN_SERVICE_ADMIN_TOKEN', 'TOKEN_SERVICE_ADMIN_URL'])
  t.notMatch(JSON.stringify(short), 'short-admin-token')
})
