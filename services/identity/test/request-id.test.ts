// X-Request-Id on identity (packages/observability): kept when valid, returned on every answer
// (BetterAuth's included), logged on the request's lines.
import t from 'tap'
import { buildTestApp, trustedOrigin } from './helpers.ts'

t.test('identity returns and logs the request id, BetterAuth answers included', async (t) => {
  const { app, logs } = await buildTestApp(t, { LOG_LEVEL: 'info' })
  const jwks = await app.inject({ url: '/api/auth/jwks', headers: { 'x-request-id': 'jwks-fetch-1' } })
  t.equal(jwks.statusCode, 200)
  t.equal(jwks.headers['x-request-id'], 'jwks-fetch-1', "the id token-service's JWKS fetch sent")
  const lines = logs.lines.map((line) => JSON.parse(line) as { request_id?: string })
  t.ok(
    lines.some((line) => line.request_id === 'jwks-fetch-1'),
    'logged as request_id',
  )
  const refused = await app.inject({ method: 'POST', url: '/api/auth/sign-in/email', headers: { 'content-type': 'application/json', origin: trustedOrigin, 'x-request-id': 'a'.repeat(200) }, payload: '{}' })
  t.equal(refused.statusCode, 400)
  t.match(refused.headers['x-request-id'], /^[0-9a-f-]{36}$/, 'a too-long id is replaced')
})
