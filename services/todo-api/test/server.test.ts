import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import pg from 'pg'
import { createTestSchema, spawnService } from '@todo-auth/testkit'

const entry = fileURLToPath(new URL('../src/server.ts', import.meta.url))
const migrateEntry = fileURLToPath(new URL('../src/db/migrate.command.ts', import.meta.url))
const unreachableDb = 'postgres://postgres@127.0.0.1:1/test'

/** Runs a script to completion, collecting its output. */
async function run(file: string, env: Record<string, string>) {
  const child = spawn(process.execPath, [file], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (chunk) => (output += chunk))
  child.stderr.on('data', (chunk) => (output += chunk))
  const [code] = (await once(child, 'exit')) as [number | null]
  return { code, output }
}

t.test('the server refuses to start, clearly and non-zero, when the database is unreachable', async (t) => {
  const { code, output } = await run(entry, { DATABASE_URL: unreachableDb, PORT: '0', LOG_LEVEL: 'info' })
  t.equal(code, 1)
  t.match(output, /"reason":"database_unreachable"/)
  t.match(output, /cannot reach the database \(postgres\) at 127\.0\.0\.1:1\/test: ECONNREFUSED/)
  t.notMatch(output, /"event":"listening"/)
})

t.test('the server refuses to start on invalid configuration, listing every problem', async (t) => {
  const { code, output } = await run(entry, { PORT: 'x', TOKEN_ALGORITHMS: 'none' })
  t.equal(code, 78, 'EX_CONFIG')
  const line = JSON.parse(output.trim()) as { event: string; service: string; code: string; errors: { variable: string }[] }
  t.same([line.event, line.service, line.code], ['config_error', 'todo-api', 'ERR_CONFIG_INVALID'])
  t.same(
    line.errors.map((e) => e.variable),
    ['PORT', 'TOKEN_ALGORITHMS'],
  )
})

t.test('on PostgreSQL the server migrates, listens, is ready, and exits 0 on SIGTERM', async (t) => {
  const schema = await createTestSchema('todo')
  t.teardown(() => schema.drop())
  const service = await spawnService({ entry, env: { DATABASE_URL: schema.url, PORT: '0', LOG_LEVEL: 'info' } })
  t.teardown(() => service.kill())
  t.match(service.url, /^http:\/\/127\.0\.0\.1:\d+$/)
  const ready = await fetch(`${service.url}/readyz`)
  t.equal(ready.status, 200)
  const unauthenticated = await fetch(`${service.url}/todos`)
  t.equal(unauthenticated.status, 401)
  const client = new pg.Client({ connectionString: schema.url })
  await client.connect()
  const { rows } = await client.query<{ n: number }>("select count(*)::int as n from information_schema.tables where table_schema = $1 and table_name = 'todos'", [schema.name])
  await client.end()
  t.equal(rows[0]!.n, 1, 'the todos table was created by the start-up migration')
  t.equal(await service.stop(), 0)
})

t.test('without DATABASE_URL the server runs on embedded PGlite', async (t) => {
  const service = await spawnService({ entry, env: { DATABASE_URL: undefined, PORT: '0', LOG_LEVEL: 'warn' } })
  t.teardown(() => service.kill())
  t.equal((await fetch(`${service.url}/readyz`)).status, 200)
  t.equal(await service.stop(), 0)
})

t.test('the migrate command migrates, is idempotent, and fails clearly on an unreachable database', async (t) => {
  const schema = await createTestSchema('todo')
  t.teardown(() => schema.drop())
  const first = await run(migrateEntry, { DATABASE_URL: schema.url })
  t.equal(first.code, 0, first.output)
  t.match(first.output, /"migration":"0001-create-todos","status":"Success"/)
  const second = await run(migrateEntry, { DATABASE_URL: schema.url })
  t.equal(second.code, 0)
  t.notMatch(second.output, /"status":"Success"/, 'nothing left to run')
  t.match(second.output, /up to date/)
  const down = await run(migrateEntry, { DATABASE_URL: unreachableDb })
  t.equal(down.code, 1)
  t.match(down.output, /database_unreachable/)
})
