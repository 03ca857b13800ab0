// The repository returns created_at/updated_at as the database formatted them: ISO 8601, UTC,
// milliseconds, whatever the session's time zone, on PostgreSQL and on embedded PGlite alike;
// keyset paging through such a timestamp neither skips nor repeats a todo.
import t, { type Test } from 'tap'
import { createTestSchema } from '@todo-auth/testkit'
import { loadConfig } from '../src/config.ts'
import { openDatabase, type TodoDatabase } from '../src/db/database.ts'
import { migrateToLatest } from '../src/db/migrate.ts'
import { createTodo, findTodo, listTodos, updateTodo } from '../src/todos/todo.repository.ts'
import { decodeCursor, encodeCursor } from '../src/todos/todo.cursor.ts'

const isoMillisUtc = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

async function postgresIn(t: Test, timeZone: string): Promise<TodoDatabase> {
  const schema = await createTestSchema('todo')
  t.teardown(() => schema.drop())
  const url = new URL(schema.url)
  url.searchParams.set('options', `${url.searchParams.get('options')} -c TimeZone=${timeZone}`)
  const database = openDatabase(loadConfig({ DATABASE_URL: url.toString() }).database, { onIdleError: () => {} })
  t.teardown(() => database.close())
  await migrateToLatest(database.db)
  return database
}

async function pglite(t: Test): Promise<TodoDatabase> {
  const database = openDatabase({ kind: 'pglite', dataDir: undefined }, { onIdleError: () => {} })
  t.teardown(() => database.close())
  await migrateToLatest(database.db)
  return database
}

const databases: Array<[string, (t: Test) => Promise<TodoDatabase>]> = [
  ['PostgreSQL, session time zone Asia/Kolkata (+05:30)', (t) => postgresIn(t, 'Asia/Kolkata')],
  ['PostgreSQL, session time zone America/St_Johns (-03:30)', (t) => postgresIn(t, 'America/St_Johns')],
  ['PGlite', pglite],
]

for (const [name, open] of databases) {
  t.test(`${name}: timestamps are ISO 8601 UTC with milliseconds, and they are the database's clock`, async (t) => {
    const { db } = await open(t)
    const before = Date.now()
    const created = await createTodo(db, 'owner-1', { title: 'a' })
    const after = Date.now()
    for (const value of [created.created_at, created.updated_at]) {
      t.match(value, isoMillisUtc)
      t.equal(new Date(value).toISOString(), value, 'round-trips through Date unchanged')
      // The database's clock, not ours: a second of slack for the two clocks and the round trip.
      t.ok(Date.parse(value) >= before - 1000 && Date.parse(value) <= after + 1000, `${value} is now`)
    }
    const found = await findTodo(db, 'owner-1', created.id)
    t.equal(found?.created_at, created.created_at, 'the same string when read back')
    const listed = await listTodos(db, 'owner-1', { limit: 10 })
    t.same(
      listed.map((r) => r.created_at),
      [created.created_at],
    )
    await new Promise((resolve) => setTimeout(resolve, 5))
    const updated = await updateTodo(db, 'owner-1', created.id, { title: 'b' })
    t.equal(updated?.created_at, created.created_at)
    t.match(updated?.updated_at, isoMillisUtc)
    t.ok(Date.parse(updated!.updated_at) > Date.parse(created.updated_at), 'updated_at moved on')
  })

  t.test(`${name}: paging by the formatted timestamp visits every todo once`, async (t) => {
    const { db } = await open(t)
    const titles: string[] = []
    // Same order (null) for all: the position is (created_at, id), several todos share a millisecond.
    for (let i = 0; i < 12; i += 1) titles.push((await createTodo(db, 'owner-2', { title: `t${i}` })).title)
    const seen: string[] = []
    let position: ReturnType<typeof decodeCursor> | undefined
    for (let page = 0; page < 20; page += 1) {
      const rows = await listTodos(db, 'owner-2', { limit: 5, ...(position ? { after: position } : {}) })
      seen.push(...rows.map((r) => r.title))
      const last = rows.at(-1)
      if (rows.length < 5 || last === undefined) break
      position = decodeCursor(encodeCursor({ order: last.order, createdAt: last.created_at, id: last.id }))
    }
    t.same([...seen].sort(), [...titles].sort(), 'each todo exactly once')
    t.equal(seen.length, titles.length)
  })
}
