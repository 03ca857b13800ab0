import t from 'tap'
import { build } from './helpers/build.ts'

// R53: every read, write and delete is scoped to the token's sub. Another user's todo is
// indistinguishable from a missing one.

const built = await build(t)
const { app } = built
const alice = { ...(await built.auth({ sub: 'alice' })), 'content-type': 'application/json' }
const bob = { ...(await built.auth({ sub: 'bob' })), 'content-type': 'application/json' }
const missingId = '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b'

async function aliceTodo(title = 'alice secret') {
  return (await app.inject({ method: 'POST', url: '/todos', headers: alice, payload: { title, order: 1 } })).json() as { id: string; title: string }
}
const row = (id: string) => built.db.selectFrom('todos').selectAll().where('id', '=', id).executeTakeFirst()

t.test('GET /todos lists only the caller’s todos, also with filters', async (t) => {
  const mine = await aliceTodo()
  await app.inject({ method: 'POST', url: '/todos', headers: bob, payload: { title: 'bob one', completed: true } })
  for (const url of ['/todos', '/todos?completed=true', '/todos?completed=false', '/todos?limit=500']) {
    const list = (await app.inject({ url, headers: bob })).json() as Array<{ title: string }>
    t.notOk(
      list.some((todo) => todo.title === 'alice secret'),
      `${url}: bob never sees alice’s todo`,
    )
  }
  const aliceList = (await app.inject({ url: '/todos', headers: alice })).json() as Array<{ id: string }>
  t.ok(aliceList.some((todo) => todo.id === mine.id))
  t.notOk((aliceList as unknown as Array<{ title: string }>).some((todo) => todo.title === 'bob one'))
})

t.test('GET /todos/{id} of another user is the same 404 as a missing id', async (t) => {
  const mine = await aliceTodo()
  const other = await app.inject({ url: `/todos/${mine.id}`, headers: bob })
  const missing = await app.inject({ url: `/todos/${missingId}`, headers: bob })
  t.equal(other.statusCode, 404)
  t.same(other.json(), missing.json(), 'identical body')
  t.equal(other.headers['content-length'], missing.headers['content-length'])
})

t.test('PATCH /todos/{id} of another user is 404 and changes nothing', async (t) => {
  const mine = await aliceTodo()
  const before = await row(mine.id)
  const res = await app.inject({ method: 'PATCH', url: `/todos/${mine.id}`, headers: bob, payload: { title: 'pwned', completed: true } })
  t.equal(res.statusCode, 404)
  t.equal(res.json().code, 'ERR_TODO_NOT_FOUND')
  t.same(await row(mine.id), before)
})

t.test('DELETE /todos/{id} of another user is 404 and deletes nothing', async (t) => {
  const mine = await aliceTodo()
  const res = await app.inject({ method: 'DELETE', url: `/todos/${mine.id}`, headers: bob })
  t.equal(res.statusCode, 404)
  t.ok(await row(mine.id), 'alice’s todo is still there')
})

t.test('DELETE /todos deletes only the caller’s todos', async (t) => {
  const mine = await aliceTodo()
  await app.inject({ method: 'POST', url: '/todos', headers: bob, payload: { title: 'bob' } })
  const res = await app.inject({ method: 'DELETE', url: '/todos', headers: bob })
  t.equal(res.statusCode, 204)
  t.ok(await row(mine.id), 'alice’s todo survives bob’s delete-all')
  const bobs = await built.db.selectFrom('todos').select('id').where('owner', '=', 'bob').execute()
  t.equal(bobs.length, 0)
})

t.test('POST /todos always creates for the caller', async (t) => {
  const res = await app.inject({ method: 'POST', url: '/todos', headers: bob, payload: { title: 'mine' } })
  t.equal((await row(res.json().id))?.owner, 'bob')
})

t.test('a cursor built from another user’s todo only pages through the caller’s own list', async (t) => {
  const mine = await aliceTodo('alice paged')
  const aliceRow = await row(mine.id)
  const cursor = Buffer.from(JSON.stringify([null, new Date(0).toISOString(), aliceRow!.id])).toString('base64url')
  const list = (await app.inject({ url: `/todos?after=${cursor}`, headers: bob })).json() as Array<{ title: string }>
  t.notOk(list.some((todo) => todo.title.startsWith('alice')))
})

t.test('emails and other claims do not identify the owner: the sub does', async (t) => {
  const mine = await aliceTodo()
  const sameEmail = await built.auth({ sub: 'mallory', claims: { email: 'alice@example.com' } })
  const res = await app.inject({ url: `/todos/${mine.id}`, headers: sameEmail })
  t.equal(res.statusCode, 404)
})
