// Consumer: the web frontend: web/api-client.js, the module the page itself
// uses, run in Node with a fetch that does what the browser does.
// Provider: todo-api. What the page relies on: the todo resource (create,
// list, toggle, delete) and the errors it shows or acts on (401 makes it
// refresh and retry; 400/403/404 are shown with their problem code).
import t from 'tap'
import { MatchersV3 } from '@pact-foundation/pact'
import { Compile } from 'typebox/compile'
import { Problem, Todo, TodoList } from '@todo-auth/contracts'
import { createConsumerPact, Participant } from '../support/consumer-pact.ts'
import { isoDateTime, jsonContentType, problemContentType, uuid } from '../support/pact-dsl.ts'
import { ProviderState } from '../support/provider-states.ts'
import { publishPactWhenPassing } from '../support/publish.ts'
import { exampleAccessToken } from './examples.ts'
import { type ApiError, createApiClient } from '../../web/api-client.js'
import { BrowserFetch } from '../support/browser-fetch.ts'

const { like, regex, boolean, integer, eachLike, fromProviderState } = MatchersV3
const consumerPact = createConsumerPact(Participant.web, Participant.todoApi)
const { pact } = consumerPact

const exampleTodoId = '3b6f0c1e-2a4d-4e8f-9c7b-5d1a2e3f4b6c'
const exampleTodoUrl = `http://localhost:8080/todos/${exampleTodoId}`
const exampleTime = '2026-09-21T14:13:20.000Z'
const authorization = fromProviderState('Bearer ${accessToken}', `Bearer ${exampleAccessToken}`)
const todoPath = fromProviderState('/todos/${todoId}', `/todos/${exampleTodoId}`)
const todoUrl = regex('^https?://[^/]+/todos/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$', exampleTodoUrl)

/** The Todo-Backend resource as the page reads it (SPEC §10). */
function todo(overrides: Record<string, unknown> = {}) {
  return {
    id: uuid(exampleTodoId),
    title: like('buy milk'),
    completed: boolean(false),
    order: null as unknown,
    url: todoUrl,
    created_at: isoDateTime(exampleTime),
    updated_at: isoDateTime(exampleTime),
    ...overrides,
  }
}

/** RFC 9457 with our stable code; the page shows `detail` and `code`. */
function problem(status: number, code: string, detail: string) {
  return { type: like('about:blank'), title: like('Error'), status, detail: like(detail), code }
}

/** The page's api client against the mock server. */
const webClient = (baseUrl: string) => createApiClient({ baseUrl, fetch: new BrowserFetch().fetch })
const checkTodo = Compile(Todo)
const checkProblem = Compile(Problem)
const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error as ApiError,
  )

t.test('the page creates a todo', async (t) => {
  await pact
    .addInteraction()
    .given(ProviderState.userSignedIn)
    .uponReceiving('a request to create a todo')
    .withRequest('POST', '/todos', (b) => b.headers({ Authorization: authorization }).jsonBody({ title: 'buy milk' }))
    .willRespondWith(201, (b) => b.headers({ 'Content-Type': jsonContentType, Location: todoUrl }).jsonBody(todo({ title: 'buy milk', completed: false, order: null })))
    .executeTest(async (server) => {
      const created = await webClient(server.url).createTodo(exampleAccessToken, 'buy milk')
      t.ok(checkTodo.Check(created), 'the todo satisfies the shared Todo schema')
    })
})

t.test("the page lists the user's todos", async (t) => {
  await pact
    .addInteraction()
    .given(ProviderState.userHasTodo)
    .uponReceiving('a request for the caller’s todos')
    .withRequest('GET', '/todos', (b) => b.headers({ Authorization: authorization }))
    .willRespondWith(200, (b) => b.headers({ 'Content-Type': jsonContentType }).jsonBody(eachLike(todo({ order: integer(1) }))))
    .executeTest(async (server) => {
      const list = await webClient(server.url).listTodos(exampleAccessToken)
      t.ok(Compile(TodoList).Check(list), 'the list satisfies the shared TodoList schema')
      t.ok(list.length > 0, 'the todo is listed')
    })
})

t.test('the page marks a todo completed', async (t) => {
  await pact
    .addInteraction()
    .given(ProviderState.userHasTodo)
    .uponReceiving('a request to mark a todo completed')
    .withRequest('PATCH', todoPath, (b) => b.headers({ Authorization: authorization }).jsonBody({ completed: true }))
    .willRespondWith(200, (b) => b.headers({ 'Content-Type': jsonContentType }).jsonBody(todo({ completed: true, order: integer(1) })))
    .executeTest(async (server) => {
      const updated = await webClient(server.url).updateTodo(exampleAccessToken, exampleTodoId, { completed: true })
      t.ok(checkTodo.Check(updated), 'the todo satisfies the shared Todo schema')
      t.equal(updated.completed, true, 'the todo is completed')
    })
})

t.test('the page deletes a todo', async (t) => {
  await pact
    .addInteraction()
    .given(ProviderState.userHasTodo)
    .uponReceiving('a request to delete a todo')
    .withRequest('DELETE', todoPath, (b) => b.headers({ Authorization: authorization }))
    .willRespondWith(204)
    .executeTest(async (server) => {
      t.equal(await webClient(server.url).deleteTodo(exampleAccessToken, exampleTodoId), null, '204, nothing to read')
    })
})

t.test('a request without a token is a 401 Bearer challenge', async (t) => {
  await pact
    .addInteraction()
    .uponReceiving('a request for todos without an access token')
    .withRequest('GET', '/todos')
    .willRespondWith(401, (b) => b.headers({ 'Content-Type': problemContentType, 'WWW-Authenticate': regex('^Bearer( .*)?$', 'Bearer realm="todo-api"') }).jsonBody(problem(401, 'ERR_AUTH_TOKEN_MISSING', 'an access token is required')))
    .executeTest(async (server) => {
      const response = await fetch(`${server.url}/todos`)
      t.equal(response.status, 401, '401 makes the page refresh and retry')
      t.ok(checkProblem.Check(await response.json()), 'the problem satisfies the shared Problem schema')
    })
})

t.test('a token todo-api cannot verify is a 401 invalid_token', async (t) => {
  await pact
    .addInteraction()
    .uponReceiving('a request for todos with an access token todo-api cannot verify')
    .withRequest('GET', '/todos', (b) => b.headers({ Authorization: `Bearer ${exampleAccessToken}` }))
    .willRespondWith(401, (b) =>
      b
        .headers({ 'Content-Type': problemContentType, 'WWW-Authenticate': regex('^Bearer .*error="invalid_token".*$', 'Bearer realm="todo-api", error="invalid_token"') })
        .jsonBody(problem(401, 'ERR_AUTH_INVALID_TOKEN', 'the access token is invalid')),
    )
    .executeTest(async (server) => {
      const error = await failureOf(webClient(server.url).listTodos(exampleAccessToken))
      t.equal(error?.status, 401, '401 makes the page refresh and retry')
      t.equal(error?.code, 'ERR_AUTH_INVALID_TOKEN', 'the problem code is ERR_AUTH_INVALID_TOKEN')
    })
})

t.test('a token without todos:write cannot create: 403 insufficient_scope', async (t) => {
  await pact
    .addInteraction()
    .given(ProviderState.userCanOnlyRead)
    .uponReceiving('a request to create a todo with a read-only access token')
    .withRequest('POST', '/todos', (b) => b.headers({ Authorization: authorization }).jsonBody({ title: 'buy milk' }))
    .willRespondWith(403, (b) =>
      b
        .headers({ 'Content-Type': problemContentType, 'WWW-Authenticate': regex('^Bearer .*error="insufficient_scope".*$', 'Bearer realm="todo-api", error="insufficient_scope", scope="todos:write"') })
        .jsonBody(problem(403, 'ERR_AUTH_INSUFFICIENT_SCOPE', 'the access token lacks a required scope')),
    )
    .executeTest(async (server) => {
      const error = await failureOf(webClient(server.url).createTodo(exampleAccessToken, 'buy milk'))
      t.equal(error?.status, 403, 'not a 401: refreshing would not help')
      t.equal(error?.code, 'ERR_AUTH_INSUFFICIENT_SCOPE', 'the problem code is ERR_AUTH_INSUFFICIENT_SCOPE')
    })
})

t.test('an empty title is a 400 validation problem', async (t) => {
  await pact
    .addInteraction()
    .given(ProviderState.userSignedIn)
    .uponReceiving('a request to create a todo with an empty title')
    .withRequest('POST', '/todos', (b) => b.headers({ Authorization: authorization }).jsonBody({ title: '' }))
    .willRespondWith(400, (b) => b.headers({ 'Content-Type': problemContentType }).jsonBody(problem(400, 'ERR_VALIDATION', 'body/title must NOT have fewer than 1 characters')))
    .executeTest(async (server) => {
      const error = await failureOf(webClient(server.url).createTodo(exampleAccessToken, ''))
      t.equal(error?.status, 400, 'the page shows the problem')
      t.equal(error?.code, 'ERR_VALIDATION', 'the problem code is ERR_VALIDATION')
    })
})

t.test('a todo that does not exist is a 404 problem', async (t) => {
  const missing = '00000000-0000-4000-8000-000000000000'
  await pact
    .addInteraction()
    .given(ProviderState.userSignedIn)
    .uponReceiving('a request to change a todo that does not exist')
    .withRequest('PATCH', `/todos/${missing}`, (b) => b.headers({ Authorization: authorization }).jsonBody({ completed: true }))
    .willRespondWith(404, (b) => b.headers({ 'Content-Type': problemContentType }).jsonBody(problem(404, 'ERR_TODO_NOT_FOUND', 'no such todo')))
    .executeTest(async (server) => {
      const error = await failureOf(webClient(server.url).updateTodo(exampleAccessToken, missing, { completed: true }))
      t.equal(error?.status, 404, 'the page shows the problem')
      t.equal(error?.code, 'ERR_TODO_NOT_FOUND', 'the problem code is ERR_TODO_NOT_FOUND')
    })
})

publishPactWhenPassing(t, consumerPact)
