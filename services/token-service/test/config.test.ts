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
    const problems = (error as ConfigError).problems.join('\n')
    for (const name of ['PORT', 'ACCESS_TOKEN_TTL', 'SIGNING_ALG', 'ISSUER', 'KEY_ENCRYPTION_KEY', 'COOKIE_SECURE']) {
      t.match(problems, name, `${name} is reported`)
    }
    t.notMatch((error as Error).message, secret)
    t.notMatch((error as Error).message, 'abc')
  }
})

t.test('production refuses the in-process store, insecure cookies and a missing admin token', async (t) => {
  const error = t.throws(() => loadConfig({ DEPLOYMENT_MODE: 'production', COOKIE_SECURE: 'false' })) as ConfigError
  const text = error.problems.join('\n')
  t.match(text, /REDIS_URL/)
  t.match(text, /COOKIE_SECURE/)
  t.match(text, /ADMIN_TOKEN/)
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
