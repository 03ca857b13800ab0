// token-service's OpenAPI 3.1 document (GET /openapi.json on the public listener): valid, complete, and true.
import t from 'tap'
import { documentedOperations, openApiProblems, type OpenApiDocument } from '@todo-auth/testkit'
import { build } from '../helpers/build.ts'

t.test('the public listener serves a valid OpenAPI 3.1 document of its routes, and every documented operation answers', async (t) => {
  const app = await build(t, {}, { store: 'memory' })
  const res = await app.publicApp.inject({ url: '/openapi.json' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json/)
  const document = res.json() as OpenApiDocument
  t.equal(document.openapi, '3.1.0')
  t.same(await openApiProblems(document), [], 'valid against the OpenAPI 3.1 schema')
  const paths = Object.keys(document.paths ?? {})
  for (const path of ['/oauth/token', '/oauth/revoke', '/sessions', '/sessions/{id}', '/.well-known/jwks.json', '/.well-known/oauth-authorization-server', '/openapi.json']) {
    t.ok(paths.includes(path), `${path} is documented`)
  }
  t.notOk(
    paths.some((path) => path.startsWith('/admin')),
    'the admin API is not on this listener, nor in its document',
  )
  for (const { method, url } of documentedOperations(document)) {
    const answer = await app.publicApp.inject({ method: method as 'GET', url })
    t.ok(answer.statusCode !== 404 && answer.statusCode < 500, `${method} ${url} answers (${answer.statusCode})`)
  }
})
