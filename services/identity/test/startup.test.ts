import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { resolve } from 'node:path'
import t from 'tap'
import { createTestSchema, spawnService } from '@todo-auth/testkit'
import { buildApp } from '../src/app.ts'
import { loadConfig } from '../src/config.ts'
import { openDatabase } from '../src/database.ts'
import { sql } from 'kysely'
import { randomSecret } from './helpers.ts'

const entry = resolve(import.meta.dirname, '../src/server.ts')

/** Runs server.ts with exactly this environment (nothing inherited but PATH) until it exits. */
async function runToExit(env: Record<string, string>) {
  const child = spawn(process.execPath, [entry], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk) => (stdout += chunk))
  child.stderr.on('data', (chunk) => (stderr += chunk))
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
  const [code] = (await once(child, 'exit')) as [number | null]
  clearTimeout(timer)
  return { code, stdout, stderr }
}

t.test('an unreachable DATABASE_URL exits non-zero with one clear line, never falling back to PGlite', async (t) => {
  const { code, stdout, stderr } = await runToExit({
    PORT: '0',
    BETTER_AUTH_SECRET: randomSecret(),
    DATABASE_URL: 'postgres://postgres:hunter2-not-logged@127.0.0.1:1/test',
  })
  t.not(code, 0)
  const lines = stderr.trim().split('\n')
  t.equal(lines.length, 1, 'one line')
  const line = JSON.parse(lines[0]!) as { event: string; msg: string }
  t.equal(line.event, 'database_unreachable')
  t.match(line.msg, 'DATABASE_URL')
  t.match(line.msg, '127.0.0.1:1/test')
  t.match(line.msg, 'ECONNREFUSED')
  t.notMatch(stderr + stdout, 'hunter2-not-logged', 'the password of the URL is not printed')
  t.notMatch(stdout, 'listening')
  t.notMatch(stdout, 'signing_key_ready', 'no embedded database was started instead')
})

t.test('several bad variables are all reported in one line, without the secret', async (t) => {
  const { code, stdout, stderr } = await runToExit({
    PORT: 'http',
    BETTER_AUTH_SECRET: 'short-secret-123',
    JWT_ALG: 'HS256',
    JWT_TTL: '-5',
    TRUSTED_ORIGINS: 'not a url',
    TRUST_PROXY: 'everyone',
  })
  t.equal(code, 78, 'EX_CONFIG')
  t.equal(stdout, '')
  const lines = stderr.trim().split('\n')
  t.equal(lines.length, 1, 'one line')
  const line = JSON.parse(lines[0]!) as { event: string; service: string; code: string; errors: { variable: string; code: string }[] }
  t.same([line.event, line.service, line.code], ['config_error', 'identity', 'ERR_CONFIG_INVALID'])
  t.same(line.errors.map((e) => e.variable).sort(), ['BETTER_AUTH_SECRET', 'JWT_ALG', 'JWT_TTL', 'PORT', 'TRUSTED_ORIGINS', 'TRUST_PROXY'])
  t.ok(line.errors.every((e) => e.code === 'ERR_CONFIG_INVALID'))
  t.notMatch(stderr, 'short-secret-123')
})

t.test('a secret that cannot decrypt the stored signing key stops the start, and SIGTERM closes gracefully', async (t) => {
  const schema = await createTestSchema('t_identity')
  t.teardown(() => schema.drop())
  const secret = randomSecret()
  const first = await buildApp(loadConfig({ BETTER_AUTH_SECRET: secret, DATABASE_URL: schema.url, LOG_LEVEL: 'silent' }))
  await first.close()

  const changed = await runToExit({ PORT: '0', BETTER_AUTH_SECRET: randomSecret(), DATABASE_URL: schema.url })
  t.not(changed.code, 0)
  const line = JSON.parse(changed.stderr.trim()) as { code: string; msg: string }
  t.equal(line.code, 'IDENTITY_SIGNING_KEY_UNUSABLE')
  t.match(line.msg, 'BETTER_AUTH_SECRET')

  const service = await spawnService({ entry, env: { PORT: '0', BETTER_AUTH_SECRET: secret, DATABASE_URL: schema.url, PGLITE_DATA_DIR: undefined } })
  t.equal((await fetch(`${service.url}/healthz`)).status, 200)
  t.equal(await service.stop(), 0, 'exit code 0 after SIGTERM')
  t.ok(service.lines.some((l) => l.includes('"event":"shutdown"')))
})

t.test('instances starting together on one empty schema migrate once and share one signing key', async (t) => {
  const schema = await createTestSchema('t_identity')
  t.teardown(() => schema.drop())
  const config = loadConfig({ BETTER_AUTH_SECRET: randomSecret(), DATABASE_URL: schema.url, LOG_LEVEL: 'silent' })
  const apps = await Promise.all(Array.from({ length: 4 }, () => buildApp(config)))
  t.teardown(() => Promise.all(apps.map((app) => app.close())))
  const database = await openDatabase(config.database, { onIdleError: () => {} })
  t.teardown(() => database.close())
  const { rows } = await sql<{ count: string }>`select count(*) as count from "jwks"`.execute(database.db)
  t.equal(Number(rows[0]!.count), 1)
  const jwks = await Promise.all(apps.map(async (app) => (await app.inject('/api/auth/jwks')).json<{ keys: unknown[] }>().keys.length))
  t.same(jwks, [1, 1, 1, 1])
})
