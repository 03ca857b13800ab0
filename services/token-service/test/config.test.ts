import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { ConfigError, loadConfig } from '../src/config.ts'

t.test('defaults give the SPEC ports, issuer and the web and cli clients', async (t) => {
  const config = loadConfig({})
  t.equal(config.PORT, 3002)
  t.equal(config.ADMIN_PORT, 3102)
  t.equal(config.ISSUER, 'http://localhost:8080')
  t.equal(config.ACCESS_TOKEN_TTL, 900)
  t.equal(config.REFRESH_TOKEN_TTL, 604_800)
  t.equal(config.REFRESH_REUSE_GRACE, 10)
  t.equal(config.SIGNING_ALG, 'ES256')
  t.same(config.clients.map((c) => [c.clientId, c.refreshTokenDelivery]), [
    ['web', 'cookie'],
    ['cli', 'body'],
  ])
  t.equal(config.refreshCookieName, '__Secure-refresh_token')
  t.ok(Object.isFrozen(config))
})

t.test('every bad variable is reported at once, and secrets are not echoed', async (t) => {
  const secret = 'short-admin-token-value'
  try {
    loadConfig({ PORT: 'eighty', ACCESS_TOKEN_TTL: '-5', SIGNING_ALG: 'HS256', ISSUER: 'not a url', ADMIN_TOKEN: secret, KEY_ENCRYPTION_KEY: 'abc', COOKIE_SECURE: 'maybe' })
    t.fail('expected a ConfigError')
  } catch (error) {
    t.type(error, ConfigError)
    const variables = (error as ConfigError).errors.map((e) => e.variable)
    t.same(variables, ['PORT', 'ADMIN_TOKEN', 'ISSUER', 'SIGNING_ALG', 'ACCESS_TOKEN_TTL', 'KEY_ENCRYPTION_KEY', 'COOKIE_SECURE'], 'each bad variable once')
    t.notMatch((error as Error).message, secret)
    t.notMatch((error as Error).message, 'abc')
  }
})

t.test('production refuses the in-process store, insecure cookies and a missing admin token', async (t) => {
  const error = t.throws(() => loadConfig({ DEPLOYMENT_MODE: 'production', COOKIE_SECURE: 'false' })) as ConfigError
  t.same(error.errors.map((e) => [e.variable, e.code]), [
    ['REDIS_URL', 'ERR_CONFIG_MISSING'],
    ['COOKIE_SECURE', 'ERR_CONFIG_INVALID'],
    ['ADMIN_TOKEN', 'ERR_CONFIG_MISSING'],
  ])
})

t.test('a Redis store requires a key-encryption key', async (t) => {
  t.throws(() => loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' }), /KEY_ENCRYPTION_KEY/)
  const ok = loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379', KEY_ENCRYPTION_KEY: 'a'.repeat(64) })
  t.equal(ok.KEY_ENCRYPTION_KEY?.length, 32)
})

t.test('CLIENTS is parsed and validated', async (t) => {
  const config = loadConfig({
    CLIENTS: JSON.stringify([{ client_id: 'spa', refresh_token_delivery: 'cookie', allowed_origins: ['https://app.example.com'], scopes: ['todos:read'] }]),
  })
  t.same(config.clients, [{ clientId: 'spa', refreshTokenDelivery: 'cookie', allowedOrigins: ['https://app.example.com'], scopes: ['todos:read'], audiences: ['todo-api'] }])
  const bad = [
    'not json',
    '[]',
    JSON.stringify([{ client_id: 'a b', refresh_token_delivery: 'x', scopes: [] }]),
    JSON.stringify([{ client_id: 'web', refresh_token_delivery: 'cookie', scopes: ['todos:read'] }]),
    JSON.stringify([{ client_id: 'w', refresh_token_delivery: 'body', scopes: ['a'], audiences: ['elsewhere'] }]),
  ]
  for (const raw of bad) t.throws(() => loadConfig({ CLIENTS: raw }), /CLIENTS/, raw)
})

t.test('the cookie loses its __Secure- prefix only with COOKIE_SECURE=false', async (t) => {
  t.equal(loadConfig({ COOKIE_SECURE: 'false' }).refreshCookieName, 'refresh_token')
})

t.test('server.ts refuses a bad configuration with exit code 78 and one config_error line, without the secret', async (t) => {
  const entry = fileURLToPath(new URL('../src/server.ts', import.meta.url))
  const child = spawn(process.execPath, [entry], { env: { PATH: process.env.PATH ?? '', PORT: 'x', ADMIN_TOKEN: 'short-admin-token-xyz' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk) => (stdout += chunk))
  child.stderr.on('data', (chunk) => (stderr += chunk))
  const [code] = (await once(child, 'exit')) as [number | null]
  t.equal(code, 78, 'EX_CONFIG')
  t.equal(stdout, '')
  const lines = stderr.trim().split('\n')
  t.equal(lines.length, 1, 'one line')
  t.same(JSON.parse(lines[0]!), {
    event: 'config_error',
    service: 'token-service',
    code: 'ERR_CONFIG_INVALID',
    errors: [
      { variable: 'PORT', code: 'ERR_CONFIG_INVALID', message: 'must be an integer from 0 to 65535' },
      { variable: 'ADMIN_TOKEN', code: 'ERR_CONFIG_INVALID', message: 'must be at least 32 characters' },
    ],
  })
  t.notMatch(stderr, 'short-admin-token-xyz')
})

