import t from 'tap'
import { Compile } from 'typebox/compile'
import { Problem, Todo, TodoList } from '@todo-auth/contracts'
import { build } from './helpers/build.ts'

const checkTodo = Compile(Todo)
const checkList = Compile(TodoList)
const checkProblem = Compile(Problem)

const built = await build(t)
const { app } = built
const headers = { ...(await built.auth()), 'content-type': 'application/json' }

t.beforeEach(async () => {
  await app.inject({ method: 'DELETE', url: '/todos', headers: await built.auth() })
})

t.test('POST /todos creates a todo with defaults, 201, Location and an absolute url', async (t) => {
  const res = await app.inject({ method: 'POST', url: '/todos', headers, payload: { title: 'buy milk' } })
  t.equal(res.statusCode, 201)
  const todo = res.json()
  t.ok(checkTodo.Check(todo), 'the response matches the contracts Todo')
  t.equal(todo.title, 'buy milk')
  t.equal(todo.completed, false)
  t.equal(todo.order, null)
  t.equal(todo.url, `http://localhost:80/todos/${todo.id}`)
  t.equal(res.headers.location, todo.url)
  t.equal(todo.created_at, todo.updated_at)
  t.match(res.headers['content-type'], /^application\/json; charset=utf-8/)
  t.equal(res.headers['x-content-type-options'], 'nosniff')
  t.equal(res.headers['cache-control'], 'no-store')
  const [row] = await built.db.selectFrom('todos').selectAll().where('id', '=', todo.id).execute()
  t.equal(row?.owner, 'user-a', 'the owner is the token sub')
})

t.test('GET /todos/{id} returns the todo and the list holds it', async (t) => {
  const created = (await app.inject({ method: 'POST', url: '/todos', headers, payload: { title: 'a', completed: true, order: 3 } })).json()
  const one = await app.inject({ url: `/todos/${created.id}`, headers })
  t.equal(one.statusCode, 200)
  t.same(one.json(), created)
  const list = await app.inject({ url: '/todos', headers })
  t.equal(list.statusCode, 200)
  t.ok(checkList.Check(list.json()))
  t.same(list.json(), [created])
  t.notOk(list.headers.link, 'no Link header when everything fits')
})

t.test('the list is ordered by order (nulls last), then created_at', async (t) => {
  const titles = [
    ['n1', null],
    ['o5', 5],
    ['o1', 1],
    ['n2', null],
    ['o1b', 1],
    ['neg', -4],
  ] as const
  for (const [title, order] of titles) {
    const res = await app.inject({ method: 'POST', url: '/todos', headers, payload: { title, order } })
    t.equal(res.statusCode, 201)
  }
  const list = (await app.inject({ url: '/todos', headers })).json() as Array<{ title: string }>
  t.same(
    list.map((todo) => todo.title),
    ['neg', 'o1', 'o1b', 'o5', 'n1', 'n2'],
  )
})

t.test('?completed filters', async (t) => {
  await app.inject({ method: 'POST', url: '/todos', headers, payload: { title: 'done', completed: true } })
  await app.inject({ method: 'POST', url: '/todos', headers, payload: { title: 'open' } })
  const done = (await app.inject({ url: '/todos?completed=true', headers })).json() as Array<{ title: string }>
  const open = (await app.inject({ url: '/todos?completed=false', headers })).json() as Array<{ title: string }>
  t.same(
    done.map((todo) => todo.title),
    ['done'],
  )
  t.same(
    open.map((todo) => todo.title),
    ['open'],
  )
})

t.test('PATCH changes any subset, and updated_at is set by the database', async (t) => {
  const created = (await app.inject({ method: 'POST', url: '/todos', headers, payload: { title: 'x', order: 1 } })).json()
  await new Promise((resolve) => setTimeout(resolve, 5))
  const a = await app.inject({ method: 'PATCH', url: `/todos/${created.id}`, headers, payload: { completed: true } })
  t.equal(a.statusCode, 200)
  t.ok(checkTodo.Check(a.json()))
  t.same({ ...a.json(), updated_at: undefined }, { ...created, completed: true, updated_at: undefined })
  t.ok(a.json().updated_at > created.updated_at, 'updated_at moved forward')
  t.equal(a.json().created_at, created.created_at)
  const b = await app.inject({ method: 'PATCH', url: `/todos/${created.id}`, headers, payload: { title: 'y', order: null } })
  t.equal(b.json().title, 'y')
  t.equal(b.json().order, null)
  t.equal(b.json().completed, true)
  const empty = await app.inject({ method: 'PATCH', url: `/todos/${created.id}`, headers, payload: {} })
  t.equal(empty.statusCode, 200)
  t.same(empty.json(), b.json(), 'an empty patch changes nothing')
})

t.test('DELETE /todos/{id} is 204 and then 404; DELETE /todos empties the list', async (t) => {
  const created = (await app.inject({ method: 'POST', url: '/todos', headers, payload: { title: 'x' } })).json()
  await app.inject({ method: 'POST', url: '/todos', headers, payload: { title: 'y' } })
  const del = await app.inject({ method: 'DELETE', url: `/todos/${created.id}`, headers: await built.auth() })
  t.equal(del.statusCode, 204)
  t.equal(del.body, '')
  const again = await app.inject({ method: 'GET', url: `/todos/${created.id}`, headers })
  t.equal(again.statusCode, 404)
  t.equal(again.json().code, 'ERR_TODO_NOT_FOUND')
  t.ok(checkProblem.Check(again.json()))
  t.match(again.headers['content-type'], /^application\/problem\+json/)
  const all = await app.inject({ method: 'DELETE', url: '/todos', headers: await built.auth() })
  t.equal(all.statusCode, 204)
  t.equal(await built.countTodos(), 0)
})

t.test('SQL-looking and unusual titles are stored verbatim', async (t) => {
  const titles = ["'; drop table todos; --", 'Robert"); DELETE FROM todos WHERE ("1"="1', '%_\\', '<script>alert(1)</script>', 'ünïcødé 🎉', 'x'.repeat(500)]
  for (const title of titles) {
    const res = await app.inject({ method: 'POST', url: '/todos', headers, payload: { title } })
    t.equal(res.statusCode, 201, title.slice(0, 30))
    t.equal(res.json().title, title)
    const row = await built.db.selectFrom('todos').select('title').where('id', '=', res.json().id).executeTakeFirst()
    t.equal(row?.title, title, 'the database holds it verbatim')
  }
  t.equal(await built.countTodos(), titles.length, 'the table is still there, with every row')
})

t.test('a read-only token can list but not write', async (t) => {
  const readOnly = await built.auth({ scope: 'todos:read' })
  t.equal((await app.inject({ url: '/todos', headers: readOnly })).statusCode, 200)
  const res = await app.inject({ method: 'POST', url: '/todos', headers: { ...readOnly, 'content-type': 'application/json' }, payload: { title: 'x' } })
  t.equal(res.statusCode, 403)
  t.equal(res.json().code, 'ERR_AUTH_INSUFFICIENT_SCOPE')
  t.match(res.headers['www-authenticate'], 'error="insufficient_scope", error_description="The access token lacks the required scope", scope="todos:write"')
  const writeOnly = await built.auth({ scope: 'todos:write' })
  const list = await app.inject({ url: '/todos', headers: writeOnly })
  t.equal(list.statusCode, 403)
  t.match(list.headers['www-authenticate'], 'scope="todos:read"')
  t.equal(await built.countTodos(), 0)
})
