import t from 'tap'
import type { InjectOptions } from 'fastify'
import { build } from '../helpers/build.ts'
import { accessToken, env, expectLabelled, formType, jsonType, probeAll, type Probe } from './http-hardening-fixture.ts'

// Cross-cutting HTTP hardening of both token-service listeners: what every answer looks like
// (checklist R20, R28, R61). What requests may carry: http-input.test.ts.

t.test('every answer of the public listener, errors and 404s included, is JSON with nosniff (R61), and every OAuth answer is no-store (R28)', async (t) => {
  const app = await build(t, env, { store: 'memory' })
  const token = await accessToken(app)
  const oauth = (payload: string, headers: Record<string, string> = formType, url = '/oauth/token'): Probe['request'] => ({ method: 'POST', url, headers, payload })
  app.publicApp.get('/boom', async () => {
    throw new Error('internal detail that must not leak')
  })
  app.publicApp.post('/oauth/boom', async () => {
    throw new Error('internal detail that must not leak')
  })
  const probes: Probe[] = [
    { name: 'healthz', request: { url: '/healthz' }, status: 200 },
    { name: 'readyz', request: { url: '/readyz' }, status: 200 },
    { name: 'JWKS', request: { url: '/.well-known/jwks.json' }, status: 200 },
    { name: 'metadata', request: { url: '/.well-known/oauth-authorization-server' }, status: 200 },
    { name: 'unknown route', request: { url: '/nope' }, status: 404 },
    { name: 'unknown route with a body', request: { method: 'POST', url: '/nope', headers: jsonType, payload: '{}' }, status: 404 },
    { name: 'GET /oauth/token', request: { url: '/oauth/token' }, status: 404 },
    { name: 'unsupported grant', request: oauth('grant_type=password&client_id=cli'), status: 400 },
    { name: 'unknown client', request: oauth('grant_type=password&client_id=mallory'), status: 401 },
    { name: 'malformed subject token', request: oauth('grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&client_id=cli&subject_token=x&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Ajwt'), status: 400 },
    { name: 'web client without Origin', request: oauth('grant_type=refresh_token&client_id=web'), status: 403 },
    { name: 'XML body', request: oauth('<x/>', { 'content-type': 'application/xml' }), status: 415 },
    { name: 'body over the limit', request: oauth(`x=${'a'.repeat(20_000)}`), status: 413 },
    { name: 'malformed JSON', request: oauth('{"grant_type":', jsonType), status: 400 },
    { name: 'revoke without a token', request: oauth('client_id=cli', formType, '/oauth/revoke'), status: 400 },
    { name: 'revoke of an unknown token (empty 200)', request: oauth('client_id=cli&token=x', formType, '/oauth/revoke'), status: 200 },
    { name: 'sessions without a token', request: { url: '/sessions' }, status: 401 },
    { name: 'sessions with a bad token', request: { url: '/sessions', headers: { authorization: 'Bearer garbage' } }, status: 401 },
    { name: 'sessions with a malformed header', request: { url: '/sessions', headers: { authorization: 'Bearer a b' } }, status: 400 },
    { name: 'sessions with a good token', request: { url: '/sessions', headers: { authorization: `Bearer ${token}` } }, status: 200 },
    { name: 'unknown session', request: { method: 'DELETE', url: '/sessions/nope', headers: { authorization: `Bearer ${token}` } }, status: 404 },
    { name: 'an unexpected error', request: { url: '/boom' }, status: 500 },
    { name: 'an unexpected error on an OAuth path', request: { method: 'POST', url: '/oauth/boom' }, status: 500 },
  ]
  await probeAll(t, app.publicApp, probes)

  // The OAuth endpoints (not a 404 under /oauth/, nor the test's own /oauth/boom outside their scope).
  for (const probe of probes.filter((p) => p.request.url.startsWith('/oauth/') && p.status !== 404 && p.request.url !== '/oauth/boom')) {
    const response = await app.publicApp.inject(probe.request)
    t.equal(response.headers['cache-control'], 'no-store', `${probe.name}: Cache-Control no-store`)
    t.equal(response.headers.pragma, 'no-cache', `${probe.name}: Pragma no-cache`)
  }
})

t.test('every answer of the admin listener, probes and refusals included, is JSON with nosniff (R61)', async (t) => {
  const app = await build(t, { ...env, ADMIN_RATE_LIMIT_MAX: '1000' }, { store: 'memory' })
  const admin = { authorization: `Bearer ${app.config.ADMIN_TOKEN}` }
  await probeAll(t, app.adminApp!, [
    { name: 'healthz', request: { url: '/healthz' }, status: 200 },
    { name: 'readyz', request: { url: '/readyz' }, status: 200 },
    { name: 'keys without credentials', request: { url: '/admin/keys' }, status: 401 },
    { name: 'keys with a wrong token', request: { url: '/admin/keys', headers: { authorization: 'Bearer wrong' } }, status: 401 },
    { name: 'keys', request: { url: '/admin/keys', headers: admin }, status: 200 },
    { name: 'unknown admin route', request: { url: '/admin/nope', headers: admin }, status: 404 },
    { name: 'unknown kid', request: { method: 'POST', url: '/admin/keys/nope/revoke', headers: admin }, status: 404 },
    { name: 'bad force flag', request: { method: 'POST', url: '/admin/keys/rotate?force=maybe', headers: admin }, status: 400 },
    { name: 'body over the admin limit', request: { method: 'POST', url: '/admin/keys/rotate?force=true', headers: { ...admin, ...jsonType }, payload: JSON.stringify({ x: 'a'.repeat(5000) }) }, status: 413 },
    { name: 'XML body', request: { method: 'POST', url: '/admin/keys/rotate?force=true', headers: { ...admin, 'content-type': 'application/xml' }, payload: '<x/>' }, status: 415 },
  ])
  // Prometheus text is the one non-JSON answer (its exposition format); it is still labelled and nosniff.
  const metrics = await app.adminApp!.inject({ url: '/metrics', headers: admin })
  t.match(metrics.headers['content-type'], /^text\/plain; version=0\.0\.4/)
  t.equal(metrics.headers['x-content-type-options'], 'nosniff', 'metrics: nosniff')
})

t.test('429 answers are JSON with nosniff and Retry-After on both listeners (R61)', async (t) => {
  const app = await build(t, { ...env, RATE_LIMIT_MAX: '1', ADMIN_RATE_LIMIT_MAX: '1' }, { store: 'memory' })
  const request: InjectOptions = { method: 'POST', url: '/oauth/token', headers: formType, payload: 'grant_type=password&client_id=cli' }
  await app.publicApp.inject(request)
  const limited = await app.publicApp.inject(request)
  t.equal(limited.statusCode, 429)
  expectLabelled(t, limited, 'public 429')
  t.equal(limited.headers.pragma, 'no-cache', 'public 429: Pragma no-cache')
  await app.adminApp!.inject({ url: '/admin/keys' })
  const adminLimited = await app.adminApp!.inject({ url: '/admin/keys' })
  t.equal(adminLimited.statusCode, 429)
  expectLabelled(t, adminLimited, 'admin 429')
})

t.test('a 500 explains nothing on either listener (R20)', async (t) => {
  const app = await build(t, env, { store: 'memory' })
  const secret = 'internal detail that must not leak'
  app.publicApp.get('/boom', async () => {
    throw new Error(secret)
  })
  app.publicApp.post('/oauth/boom', async () => {
    throw new Error(secret)
  })
  app.adminApp!.get('/admin/boom', async () => {
    throw new Error(secret)
  })
  const answers = [
    await app.publicApp.inject({ url: '/boom' }),
    await app.publicApp.inject({ method: 'POST', url: '/oauth/boom' }),
    await app.adminApp!.inject({ url: '/admin/boom', headers: { authorization: `Bearer ${app.config.ADMIN_TOKEN}` } }),
  ]
  t.same(
    answers.map((r) => r.statusCode),
    [500, 500, 500],
  )
  t.same(answers[0]!.json(), { code: 'INTERNAL', message: 'internal error' })
  t.same(answers[1]!.json(), { error: 'server_error', error_description: 'internal error' }, 'RFC 6749 shape on OAuth paths')
  t.same(answers[2]!.json(), { code: 'INTERNAL', message: 'internal error' })
  for (const answer of answers) t.notMatch(answer.body, /internal detail|stack|\.ts:\d|Error:/)
})
