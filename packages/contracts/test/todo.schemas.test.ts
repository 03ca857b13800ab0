import t from 'tap'
import { Compile } from 'typebox/compile'
import { Problem, Todo, TodoApiErrorStatus, TodoCreate, TodoList, TodoPatch } from '../src/index.ts'

const todo = Compile(Todo)
const create = Compile(TodoCreate)
const patch = Compile(TodoPatch)

const valid = {
  id: '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b',
  title: 'x',
  completed: false,
  order: null,
  url: 'http://localhost:8080/todos/6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b',
  created_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-01T00:00:00.000Z',
}

t.test('a Todo has exactly its seven members', async (t) => {
  t.ok(todo.Check(valid))
  t.ok(Compile(TodoList).Check([valid, { ...valid, order: 3 }]))
  t.notOk(todo.Check({ ...valid, owner: 'user-a' }), 'the owner never appears on the wire')
  t.notOk(todo.Check({ ...valid, id: 'abc' }))
  t.notOk(todo.Check({ ...valid, created_at: 'yesterday' }))
  const { url: _url, ...withoutUrl } = valid
  t.notOk(todo.Check(withoutUrl))
})

t.test('create and patch bodies refuse unknown members, wrong types and values the database cannot hold', async (t) => {
  t.ok(create.Check({ title: 'x' }))
  t.ok(create.Check({ title: 'x', completed: true, order: -2147483648 }))
  t.ok(patch.Check({}))
  t.ok(patch.Check({ order: null }))
  const bad: unknown[] = [
    { title: '' },
    { title: 'x'.repeat(501) },
    { title: 'a\u0000b' },
    { title: 1 },
    { title: 'x', order: 2147483648 },
    { title: 'x', order: 1.5 },
    { title: 'x', completed: 'true' },
    { title: 'x', id: valid.id },
    { title: 'x', owner: 'u' },
  ]
  for (const body of bad) t.notOk(create.Check(body), `create ${JSON.stringify(body).slice(0, 60)}`)
  for (const body of [{ title: null }, { completed: null }, { order: '1' }, { url: 'x' }]) t.notOk(patch.Check(body), `patch ${JSON.stringify(body)}`)
  t.ok(create.Check({ title: 'x'.repeat(500) }), '500 characters is the limit')
})

t.test('every todo-api problem code has a client or server error status and fits the Problem shape', async (t) => {
  const check = Compile(Problem)
  for (const [code, status] of Object.entries(TodoApiErrorStatus)) {
    t.ok(status >= 400 && status <= 599, code)
    t.match(code, /^ERR_[A-Z_]+$/)
    t.ok(check.Check({ type: 'urn:x', title: 't', status, detail: 'd', code }))
  }
})
