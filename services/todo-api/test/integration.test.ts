import t, { type Test } from 'tap'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { Compile } from 'typebox/compile'
import { AccessTokenClaims, Todo, TodoList, TokenResponse } from '@todo-auth/contracts'
import { createTestRedisPrefix, createTestSchema, spawnTokenService, startIdentity } from '@todo-auth/testkit'
import { buildApp, createTokenKeySet } from '../src/app.ts'
import { loadConfig } from '../src/config.ts'
import { openDatabase } from '../src/db/database.ts'
import { migrateToLatest } from '../src/db/migrate.ts'

// Phase 3 of issue 4: the real identity (BetterAuth) and the real token-service as child
// processes, a real access token obtained by exchange, used against todo-api.

const identity = await startIdentity()
t.teardown(() => identity.close())
const redis = createTestRedisPrefix('t-todo-int')
t.teardown(() => redis.cleanup())
const tokenService = await spawnTokenService({ redisPrefix: redis.prefix, identity, env: { COOKIE_SECURE: 'false' } })
t.teardown(() => tokenService.kill())

/** Starts an in-process todo-api on its own schema that trusts only this token-service's JWKS. */
async function startTodoApi(t: Test) {
  const schema = await createTestSchema('todo')
  t.teardown(() => schema.drop())
  const config = loadConfig({
    DATABASE_URL: schema.url,
    PORT: '0',
    TOKEN_SERVICE_JWKS_URL: tokenService.jwksUrl,
    JWKS_TIMEOUT_MS: '1000',
    LOG_LEVEL: 'silent',
  })
  const database = openDatabase(config.database, { onIdleError: () => {} })
  t.teardown(() => database.close())
  await migrateToLatest(database.db)
  const keySet = createTokenKeySet(config)
  const app = await buildApp(config, { db: database.db, keySet })
  t.teardown(() => app.close())
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address() as { port: number }
  return { url: `http://127.0.0.1:${address.port}`, keySet, db: database.db }
}

/** RFC 8693 exchange of a BetterAuth JWT for an access token (client `cli`, body delivery). */
async function exchange(subjectToken: string, scope?: string) {
  const form = new URLSearchParams({
    grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
    subject_token: subjectToken,
    subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
    client_id: 'cli',
    ...(scope ? { scope } : {}),
  })
  const res = await fetch(`${tokenService.url}/oauth/token`, { method: 'POST', body: form })
  const body = await res.json()
  if (res.status !== 200) throw new Error(`exchange answered ${res.status}: ${JSON.stringify(body)}`)
  return body as TokenResponse
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' })

const alice = await identity.signUp()
const bob = await identity.signUp()
const aliceToken = await exchange(alice.jwt)
const bobToken = await exchange(bob.jwt)

t.test('a real exchanged access token matches the contracts and works against todo-api', async (t) => {
  t.ok(Compile(TokenResponse).Check(aliceToken), 'the token response matches the contract')
  const claims = decodeJwt(aliceToken.access_token)
  t.ok(Compile(AccessTokenClaims).Check(claims), 'the access token claims match AccessTokenClaims')
  t.equal(claims.sub, alice.userId)
  t.equal(decodeProtectedHeader(aliceToken.access_token).typ, 'at+jwt')

  const api = await startTodoApi(t)
  const created = await fetch(`${api.url}/todos`, { method: 'POST', headers: bearer(aliceToken.access_token), body: JSON.stringify({ title: 'from a real token' }) })
  t.equal(created.status, 201)
  const todo = (await created.json()) as { id: string; url: string }
  t.ok(Compile(Todo).Check(todo))
  t.equal(created.headers.get('location'), todo.url)
  const list = await fetch(`${api.url}/todos`, { headers: bearer(aliceToken.access_token) })
  t.equal(list.status, 200)
  const todos = (await list.json()) as Array<{ id: string }>
  t.ok(Compile(TodoList).Check(todos))
  t.same(
    todos.map((x) => x.id),
    [todo.id],
  )
  const row = await api.db.selectFrom('todos').select('owner').where('id', '=', todo.id).executeTakeFirstOrThrow()
  t.equal(row.owner, alice.userId, 'stored under the BetterAuth user id')
})

t.test('two real users cannot see or touch each other’s todos', async (t) => {
  const api = await startTodoApi(t)
  const created = (await (await fetch(`${api.url}/todos`, { method: 'POST', headers: bearer(aliceToken.access_token), body: JSON.stringify({ title: 'alice only' }) })).json()) as { id: string }
  for (const [method, body] of [
    ['GET', undefined],
    ['PATCH', '{"title":"bob was here"}'],
    ['DELETE', undefined],
  ] as const) {
    const res = await fetch(`${api.url}/todos/${created.id}`, { method, headers: bearer(bobToken.access_token), ...(body ? { body } : {}) })
    t.equal(res.status, 404, `${method} by bob`)
  }
  const bobList = await (await fetch(`${api.url}/todos`, { headers: bearer(bobToken.access_token) })).json()
  t.same(bobList, [])
  const still = (await (await fetch(`${api.url}/todos/${created.id}`, { headers: bearer(aliceToken.access_token) })).json()) as { title: string }
  t.equal(still.title, 'alice only')
})

t.test('a real BetterAuth JWT presented to todo-api directly is refused', async (t) => {
  const api = await startTodoApi(t)
  const res = await fetch(`${api.url}/todos`, { headers: bearer(alice.jwt) })
  t.equal(res.status, 401)
  t.match(res.headers.get('www-authenticate'), 'error="invalid_token"')
})

t.test('a narrower scope from the exchange is enforced', async (t) => {
  const api = await startTodoApi(t)
  const readOnly = await exchange(await identity.getJwt(alice.cookie), 'todos:read')
  t.equal(readOnly.scope, 'todos:read')
  t.equal((await fetch(`${api.url}/todos`, { headers: bearer(readOnly.access_token) })).status, 200)
  const write = await fetch(`${api.url}/todos`, { method: 'POST', headers: bearer(readOnly.access_token), body: '{"title":"x"}' })
  t.equal(write.status, 403)
  t.match(write.headers.get('www-authenticate'), 'scope="todos:write"')
})

// Last: it stops token-service.
t.test('todo-api keeps serving valid tokens while token-service is stopped', async (t) => {
  const api = await startTodoApi(t)
  const cold = await startTodoApi(t) // never fetched the JWKS
  t.equal((await fetch(`${api.url}/todos`, { headers: bearer(aliceToken.access_token) })).status, 200, 'keys fetched while token-service is up')
  t.equal(api.keySet.status.loaded, true)

  t.equal(await tokenService.stop(), 0, 'token-service stopped cleanly')
  t.equal((await fetch(`${tokenService.url}/.well-known/jwks.json`).catch(() => null))?.status, undefined, 'token-service is really gone')

  const list = await fetch(`${api.url}/todos`, { headers: bearer(aliceToken.access_token) })
  t.equal(list.status, 200, 'a valid token still works')
  const created = await fetch(`${api.url}/todos`, { method: 'POST', headers: bearer(bobToken.access_token), body: JSON.stringify({ title: 'written during the outage' }) })
  t.equal(created.status, 201, 'another user’s valid token too')
  t.equal((await fetch(`${api.url}/todos`, { headers: bearer('garbage') })).status, 401, 'bad tokens are still refused')

  const unverifiable = await fetch(`${cold.url}/todos`, { headers: bearer(aliceToken.access_token) })
  t.equal(unverifiable.status, 503, 'an instance with nothing cached fails closed')
  t.equal(((await unverifiable.json()) as { code: string }).code, 'ERR_AUTH_UNAVAILABLE')
})
