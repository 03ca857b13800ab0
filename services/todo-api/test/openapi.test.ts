// todo-api's OpenAPI 3.1 document (the shared openApiPlugin): valid, and every documented operation answers.
import t from 'tap'
import { documentedOperations, openApiProblems, type OpenApiDocument } from '@todo-auth/testkit'
import { build } from './helpers/build.ts'

t.test('todo-api serves a valid OpenAPI 3.1 document, and every documented operation answers', async (t) => {
  const built = await build(t)
  const document = (await built.app.inject({ url: '/openapi.json' })).json() as OpenApiDocument
  t.same(await openApiProblems(document), [], 'valid against the OpenAPI 3.1 schema')
  const operations = documentedOperations(document)
  t.ok(
    operations.some((op) => op.path === '/todos/{id}' && op.method === 'PATCH'),
    'the todo routes are documented',
  )
  for (const { method, url } of operations) {
    const answer = await built.app.inject({ method: method as 'GET', url, headers: await built.auth() })
    t.ok(answer.statusCode !== 404, `${method} ${url} answers (${answer.statusCode})`)
    t.ok(answer.statusCode < 500, `${method} ${url} is no server error`)
  }
})
