// identity's OpenAPI document (BetterAuth's openAPI plugin, served at GET /openapi.json): valid, and true.
import t from 'tap'
import { documentedOperations, openApiProblems, type OpenApiDocument } from '@todo-auth/testkit'
import { buildTestApp, trustedOrigin } from './helpers.ts'

t.test('identity serves a valid OpenAPI document of /api/auth, and every documented operation answers', async (t) => {
  const { app } = await buildTestApp(t)
  const res = await app.inject({ url: '/openapi.json' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json/)
  const document = res.json() as OpenApiDocument & { servers?: { url: string }[] }
  t.match(document.openapi, /^3\.1\./)
  t.same(await openApiProblems(document), [], 'valid against the OpenAPI 3.1 schema')
  const same = await app.inject({ url: '/api/auth/open-api/generate-schema' })
  t.same(same.json(), document, 'the same document BetterAuth serves under /api/auth')
  const paths = Object.keys(document.paths ?? {})
  for (const path of ['/sign-up/email', '/sign-in/email', '/sign-out', '/token', '/jwks']) t.ok(paths.includes(path), `${path} is documented`)
  const base = new URL(document.servers?.[0]?.url ?? 'http://x/api/auth').pathname
  t.equal(base, '/api/auth', 'paths are below /api/auth')
  for (const { method, url } of documentedOperations(document)) {
    const answer = await app.inject({ method: method as 'GET', url: `${base}${url}`, headers: { origin: trustedOrigin, 'content-type': 'application/json' }, payload: method === 'GET' ? undefined : '{}' })
    t.ok(answer.statusCode !== 404, `${method} ${base}${url} is served (${answer.statusCode})`)
  }
})
