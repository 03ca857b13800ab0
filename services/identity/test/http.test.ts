import t from 'tap'
import { sql } from 'kysely'
import { createTestSchema } from '@todo-auth/testkit'
import { buildApp } from '../src/app.ts'
import { loadConfig } from '../src/config.ts'
import { openDatabase } from '../src/database.ts'
import { captureLogs, randomSecret, sessionCookie, trustedOrigin } from './helpers.ts'

const schema = await createTestSchema('t_identity')
t.teardown(() => schema.drop())
const secret = randomSecret()
const config = loadConfig({ BETTER_AUTH_SECRET: secret, DATABASE_URL: schema.url, LOG_LEVEL: 'trace', RATE_LIMIT_ENABLED: 'false' })
const database = await openDatabase(config.database, { onIdleError: () => {} })
const logs = captureLogs()
const app = await buildApp(config, { database, logStream: logs.stream })
t.teardown(async () => {
  await app.close()
  await database.close().catch(() => {})
})

const post = (url: string, body: unknown, headers: Record<string, string> = {}) => app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', origin: trustedOrigin, ...headers }, payload: JSON.stringify(body) })

t.test('healthz and readyz answer ok while the database answers', async (t) => {
  const health = await app.inject('/healthz')
  t.equal(health.statusCode, 200)
  t.same(health.json(), { status: 'ok' })
  const ready = await app.inject('/readyz')
  t.equal(ready.statusCode, 200)
  t.same(ready.json(), { status: 'ok' })
  t.equal(ready.headers['x-content-type-options'], 'nosniff')
})

t.test('an unknown route is a coded 404', async (t) => {
  const response = await app.inject('/nope')
  t.equal(response.statusCode, 404)
  t.same(response.json(), { code: 'NOT_FOUND', message: 'Not Found' })
})

const password = 'correct horse battery staple'
const wrongPassword = 'wrong horse battery staple'
const email = 'logs@example.test'
const secrets: [string, string][] = [
  ['password', password],
  ['wrong password', wrongPassword],
  ['BETTER_AUTH_SECRET', secret],
]

t.test('logs never contain a password, a session cookie, a JWT or the secret', async (t) => {
  const signUp = await post('/api/auth/sign-up/email', { name: 'Logs', email, password })
  t.equal(signUp.statusCode, 200)
  const signIn = await post('/api/auth/sign-in/email', { email, password })
  t.equal(signIn.statusCode, 200)
  const cookie = sessionCookie(signIn.headers['set-cookie'])
  const cookieValue = cookie.slice(cookie.indexOf('=') + 1)
  secrets.push(['cookie', cookieValue], ['decoded cookie', decodeURIComponent(cookieValue)], ['session token', cookieValue.split('.')[0]!])
  t.equal((await post('/api/auth/sign-in/email', { email, password: wrongPassword })).statusCode, 401)

  const token = await app.inject({ url: '/api/auth/token', headers: { cookie } })
  t.equal(token.statusCode, 200)
  const jwt = token.json<{ token: string }>().token
  secrets.push(['JWT', jwt], ['JWT signature', jwt.split('.')[2]!])

  // Places a careless client puts credentials: a bearer header and a query string.
  t.equal((await app.inject({ url: `/api/auth/get-session?token=${jwt}`, headers: { authorization: `Bearer ${jwt}`, cookie } })).statusCode, 200)
  t.equal((await post('/api/auth/sign-out', {}, { cookie, origin: 'http://evil.example' })).statusCode, 403)
  t.equal((await post('/api/auth/sign-out', {}, { cookie })).statusCode, 200)

  t.ok(logs.lines.length > 10, `${logs.lines.length} lines captured`)
  t.ok(
    logs.lines.some((l) => l.includes('"component":"better-auth"')),
    "BetterAuth's own log lines are captured too",
  )
  t.ok(
    logs.lines.some((l) => l.includes('/api/auth/get-session')),
    'requests are logged',
  )
  if (process.env.IDENTITY_DUMP_LOGS) process.stderr.write(`${logs.lines.join('')}\n`)
  const all = logs.lines.join('\n')
  for (const [name, value] of secrets) t.notOk(all.includes(value), `not logged: ${name}`)
})

t.test("the role claim is the user's current role, and a banned user cannot sign in", async (t) => {
  const who = { name: 'Role', email: 'role@example.test', password }
  const signUp = await post('/api/auth/sign-up/email', who)
  t.equal(signUp.statusCode, 200)
  const userId = signUp.json<{ user: { id: string } }>().user.id
  await sql`update "user" set role = 'admin' where id = ${userId}`.execute(database.db)
  const cookie = sessionCookie(signUp.headers['set-cookie'])
  const token = (await app.inject({ url: '/api/auth/token', headers: { cookie } })).json<{ token: string }>().token
  const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { role: string; sub: string }
  t.equal(claims.sub, userId)
  t.equal(claims.role, 'admin')

  await sql`update "user" set banned = true where id = ${userId}`.execute(database.db)
  const signIn = await post('/api/auth/sign-in/email', { email: who.email, password })
  t.equal(signIn.statusCode, 403)
  t.equal(signIn.json<{ code: string }>().code, 'BANNED_USER')
})

t.test('a BetterAuth failure is a generic 500 that keeps the detail in the log', async (t) => {
  await sql`drop table "jwks"`.execute(database.db)
  const before = logs.lines.length
  const response = await app.inject('/api/auth/jwks')
  t.equal(response.statusCode, 500)
  t.same(response.json(), { code: 'INTERNAL_SERVER_ERROR', message: 'Internal Server Error' })
  t.notMatch(response.body, /jwks|relation|sql/i)
  t.ok(
    logs.lines.slice(before).some((l) => /jwks/.test(l) && l.includes('"level":50')),
    'the cause is logged at error level',
  )
})

t.test('readyz answers 503 once the database is gone', async (t) => {
  await database.close()
  const ready = await app.inject('/readyz')
  t.equal(ready.statusCode, 503)
  t.same(ready.json(), { status: 'unavailable' })
  t.equal((await app.inject('/healthz')).statusCode, 200, 'the process is still alive')
})
