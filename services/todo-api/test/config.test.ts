import t from 'tap'
import { ConfigError, loadConfig } from '../src/config.ts'

t.test('defaults follow the shared defaults: 127.0.0.1:3003, embedded PGlite in memory, token-service on 3002', async (t) => {
  const config = loadConfig({})
  t.equal(config.host, '127.0.0.1')
  t.equal(config.port, 3003)
  t.same(config.database, { kind: 'pglite', dataDir: undefined })
  t.equal(config.token.jwksUrl, 'http://127.0.0.1:3002/.well-known/jwks.json')
  t.equal(config.token.issuer, 'http://localhost:8080')
  t.equal(config.token.audience, 'todo-api')
  t.same(config.token.algorithms, ['ES256'])
  t.equal(config.token.clockToleranceSec, 30)
  t.same(config.trustProxy, [])
  t.equal(config.bodyLimit, 65_536)
  t.ok(Object.isFrozen(config) && Object.isFrozen(config.token), 'frozen')
})

t.test('DATABASE_URL selects PostgreSQL and lists are split', async (t) => {
  const config = loadConfig({ DATABASE_URL: 'postgres://u:p@db:5432/todos', TRUST_PROXY: '10.0.0.0/8, ::1', TOKEN_ALGORITHMS: 'ES256,EdDSA', PORT: '0' })
  t.same(config.database, { kind: 'postgres', url: 'postgres://u:p@db:5432/todos', poolMax: 10 })
  t.same(config.trustProxy, ['10.0.0.0/8', '::1'])
  t.same(config.token.algorithms, ['ES256', 'EdDSA'])
  t.equal(config.port, 0)
})

t.test('every bad variable is reported at once, without echoing secrets', async (t) => {
  try {
    loadConfig({ PORT: 'eighty', BODY_LIMIT: '1.5', LOG_LEVEL: 'loud', TOKEN_CLOCK_TOLERANCE: '-1' })
    t.fail('accepted')
  } catch (error) {
    t.ok(error instanceof ConfigError)
    t.same(
      (error as ConfigError).errors.map((e) => e.variable),
      ['PORT', 'TOKEN_CLOCK_TOLERANCE', 'BODY_LIMIT', 'LOG_LEVEL'],
    )
  }
  try {
    loadConfig({ DATABASE_URL: 'mysql://root:hunter2@db/x', TRUST_PROXY: 'true,10.0.0.0/99', TOKEN_ALGORITHMS: 'none,HS256,ES256', TOKEN_SERVICE_JWKS_URL: 'file:///etc/passwd' })
    t.fail('accepted')
  } catch (error) {
    const errors = (error as ConfigError).errors
    t.same(
      errors.map((e) => e.variable),
      ['DATABASE_URL', 'TOKEN_SERVICE_JWKS_URL', 'TOKEN_ALGORITHMS', 'TRUST_PROXY'],
      'one entry per variable',
    )
    t.match(errors.find((e) => e.variable === 'TRUST_PROXY')?.message, '"true", "10.0.0.0/99" are not an IP address or CIDR', 'every bad entry named')
    t.match(errors.find((e) => e.variable === 'TOKEN_ALGORITHMS')?.message, '"none", "HS256" are not')
    t.notMatch(JSON.stringify(errors) + (error as Error).message, /hunter2/, 'the database password is not echoed')
  }
})

t.test('PGLITE_DATA_DIR with DATABASE_URL is a contradiction', async (t) => {
  const error = t.throws(() => loadConfig({ DATABASE_URL: 'postgres://db/x', PGLITE_DATA_DIR: '/tmp/x' })) as ConfigError
  t.same(
    error.errors.map((e) => [e.variable, e.code]),
    [['PGLITE_DATA_DIR', 'ERR_CONFIG_CONFLICT']],
  )
})

t.test('an empty list of algorithms is refused', async (t) => {
  t.throws(() => loadConfig({ TOKEN_ALGORITHMS: ' , ' }), /TOKEN_ALGORITHMS must list at least 1 entry/)
})
