// X-Request-Id on todo-api (packages/observability): kept when valid, returned on every answer,
// and passed on to token-service's JWKS when a request makes todo-api fetch it.
import t from 'tap'
import { build } from './helpers/build.ts'

t.test("a request that needs token-service's JWKS passes its id on to that fetch", async (t) => {
  const built = await build(t, {}, { keySetFromConfig: true })
  const res = await built.app.inject({ url: '/todos', headers: { ...(await built.auth()), 'x-request-id': 'list-1' } })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['x-request-id'], 'list-1')
  t.same(built.jwks.requestIds, ['list-1'], 'the one JWKS fetch, made for this request, carried its id')
  const line = built.logs.map((l) => JSON.parse(l) as { request_id?: string; msg?: string }).find((l) => l.msg === 'request completed')
  t.equal(line?.request_id, 'list-1', 'the log line names it')
})

t.test('every answer carries an id: refused, invalid and not found included', async (t) => {
  const built = await build(t)
  const unauthenticated = await built.app.inject({ url: '/todos', headers: { 'x-request-id': 'anon-1' } })
  t.equal(unauthenticated.statusCode, 401)
  t.equal(unauthenticated.headers['x-request-id'], 'anon-1')
  const invalid = await built.app.inject({ method: 'POST', url: '/todos', headers: { ...(await built.auth()), 'content-type': 'application/json' }, payload: '{' })
  t.equal(invalid.statusCode, 400)
  t.match(invalid.headers['x-request-id'], /^[0-9a-f-]{36}$/, 'generated when the caller sent none')
  const forged = await built.app.inject({ url: '/nope', headers: { 'x-request-id': '../../etc/passwd' } })
  t.equal(forged.statusCode, 404)
  t.not(forged.headers['x-request-id'], '../../etc/passwd', 'an invalid id is replaced')
})
