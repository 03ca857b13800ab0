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
    const problems = (error as ConfigError).problems.join('\n')
    for (const name of ['PORT', 'BODY_LIMIT', 'LOG_LEVEL', 'TOKEN_CLOCK_TOLERANCE']) t.match(problems, name)
  }
  try {
    loadConfig({ DATABASE_URL: 'mysql://root:hunter2@db/x', TRUST_PROXY: 'true,10.0.0.0/99', TOKEN_ALGORITHMS: 'none,HS256,ES256', TOKEN_SERVICE_JWKS_URL: 'file:///etc/passwd' })
    t.fail('accepted')
  } catch (error) {
    const problems = (error as ConfigError).problems
    t.equal(problems.length, 6, problems.join('\n'))
    t.notMatch(problems.join('\n'), /hunter2/, 'the database password is not echoed')
  }
})

t.test('PGLITE_DATA_DIR with DATABASE_URL is a contradiction', async (t) => {
  t.throws(() => loadConfig({ DATABASE_URL: 'postgres://db/x', PGLITE_DATA_DIR: '/tmp/x' }), ConfigError)
})

t.test('docs/configuration.md documents every todo-api variable', async (t) => {
  const { readFile } = await import('node:fs/promises')
  const { EnvSchema } = await import('../src/config.ts')
  const docs = await readFile(new URL('../../../docs/configuration.md', import.meta.url), 'utf8')
  const section = docs.slice(docs.indexOf('## todo-api'))
  t.ok(section.startsWith('## todo-api'))
  for (const name of Object.keys(EnvSchema.properties)) t.match(section, `| \`${name}\` |`, name)
})
