import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import type { Kysely } from 'kysely'
import Type from 'typebox'
import { Problem, Todo, TodoCreate, TodoList, TodoListLimit, TodoPatch, TodoScope } from '@todo-auth/contracts'
import type { Database } from '../db/schema.ts'
import { TodoApiError } from '../errors.ts'
import { requestOrigin } from '../http/request-origin.ts'
import { decodeCursor, encodeCursor } from './todo.cursor.ts'
import { createTodo, deleteAllTodos, deleteTodo, findTodo, listTodos, updateTodo, type TodoRow } from './todo.repository.ts'

const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) }, { additionalProperties: false })
const ListQuery = Type.Object(
  {
    completed: Type.Optional(Type.Boolean({ description: 'Only todos with this completed value.' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: TodoListLimit.max, description: `Page size, default ${TodoListLimit.default}.` })),
    after: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_-]+$', description: 'Opaque cursor from the previous page’s Link rel="next".' })),
  },
  { additionalProperties: false },
)
const errors = { '4xx': Problem, '5xx': Problem }
const security = [{ bearerAuth: [] }]
const tags = ['todos']

function toTodo(row: TodoRow, origin: string): Todo {
  return {
    id: row.id,
    title: row.title,
    completed: row.completed,
    order: row.order,
    url: `${origin}/todos/${row.id}`,
    created_at: row.created_at,
    updated_at: row.updated_at,
  }
}

/** The caller's identity; the bearer-auth plugin has verified it on every route declaring config.scopes. */
function ownerOf(request: FastifyRequest): string {
  if (request.auth === null) throw new Error('a todo route was reached without authentication')
  return request.auth.sub
}

const notFound = () => new TodoApiError('ERR_TODO_NOT_FOUND')

/** SPEC §10 `/todos` routes. Another user's todo is answered exactly like a missing one (404). */
export const todoRoutes: FastifyPluginAsyncTypebox<{ db: Kysely<Database> }> = async (app, { db }) => {
  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store')
  })

  app.get(
    '/todos',
    {
      config: { scopes: [TodoScope.read] },
      schema: {
        summary: 'List the caller’s todos by order, then creation time',
        description: 'Keyset-paged: when more todos follow, a `Link: <…>; rel="next"` header points at the next page.',
        tags,
        security,
        querystring: ListQuery,
        response: { 200: TodoList, ...errors },
      },
    },
    async (request, reply) => {
      const owner = ownerOf(request)
      const origin = requestOrigin(request)
      const { completed, after } = request.query
      const limit = request.query.limit ?? TodoListLimit.default
      const position = after === undefined ? undefined : decodeCursor(after)
      const rows = await listTodos(db, owner, { completed, limit: limit + 1, after: position })
      const page = rows.slice(0, limit)
      const last = page.at(-1)
      if (rows.length > limit && last !== undefined) {
        const next = new URLSearchParams()
        if (completed !== undefined) next.set('completed', String(completed))
        next.set('limit', String(limit))
        next.set('after', encodeCursor({ order: last.order, createdAt: last.created_at, id: last.id }))
        reply.header('link', `<${origin}/todos?${next}>; rel="next"`)
      }
      return page.map((row) => toTodo(row, origin))
    },
  )

  app.post(
    '/todos',
    {
      config: { scopes: [TodoScope.write] },
      schema: { summary: 'Create a todo', tags, security, body: TodoCreate, response: { 201: Todo, ...errors } },
    },
    async (request, reply) => {
      const owner = ownerOf(request)
      const origin = requestOrigin(request)
      const todo = toTodo(await createTodo(db, owner, request.body), origin)
      return reply.code(201).header('location', todo.url).send(todo)
    },
  )

  app.delete(
    '/todos',
    {
      config: { scopes: [TodoScope.write] },
      schema: { summary: 'Delete all the caller’s todos', tags, security, response: { 204: Type.Null(), ...errors } },
    },
    async (request, reply) => {
      await deleteAllTodos(db, ownerOf(request))
      return reply.code(204).send(null)
    },
  )

  app.get(
    '/todos/:id',
    {
      config: { scopes: [TodoScope.read] },
      schema: { summary: 'One todo', tags, security, params: IdParams, response: { 200: Todo, ...errors } },
    },
    async (request) => {
      const owner = ownerOf(request)
      const origin = requestOrigin(request)
      const row = await findTodo(db, owner, request.params.id)
      if (row === undefined) throw notFound()
      return toTodo(row, origin)
    },
  )

  app.patch(
    '/todos/:id',
    {
      config: { scopes: [TodoScope.write] },
      schema: { summary: 'Change any of title, completed, order', tags, security, params: IdParams, body: TodoPatch, response: { 200: Todo, ...errors } },
    },
    async (request) => {
      const owner = ownerOf(request)
      const origin = requestOrigin(request)
      const row = await updateTodo(db, owner, request.params.id, request.body)
      if (row === undefined) throw notFound()
      return toTodo(row, origin)
    },
  )

  app.delete(
    '/todos/:id',
    {
      config: { scopes: [TodoScope.write] },
      schema: { summary: 'Delete one todo', tags, security, params: IdParams, response: { 204: Type.Null(), ...errors } },
    },
    async (request, reply) => {
      if (!(await deleteTodo(db, ownerOf(request), request.params.id))) throw notFound()
      return reply.code(204).send(null)
    },
  )
}
