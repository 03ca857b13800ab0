// CORS on token-service's public listener (@fastify/cors with CORS_ORIGINS): preflights per
// route, credentials only for cookie-client origins on /oauth/*, nothing on the admin listener.
import t from 'tap'
import { loadConfig } from '../../src/config.ts'
import { build } from '../helpers/build.ts'

const frontend = 'https://app.example.test' // listed in CORS_ORIGINS only: a body (`cli`) client
const webOrigin = 'https://web.example.test' // listed in CORS_ORIGINS and registered for the cookie client `web`
const stranger = 'https://evil.example.test'

const service = await build(t, { CORS_ORIGINS: `${frontend},${webOrigin}`, WEB_ALLOWED_ORIGINS: webOrigin }, { store: 'memory' })
const app = service.publicApp

const preflight = (url: string, origin: string, method = 'POST', headers = 'content-type') => app.inject({ method: 'OPTIONS', url, headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers } })

t.test('CORS_ORIGINS refuses `*` and anything that is not an origin', async (t) => {
  t.throws(() => loadConfig({ CORS_ORIGINS: '*' }), /CORS_ORIGINS.*`\*` is refused/)
  t.throws(() => loadConfig({ CORS_ORIGINS: `${frontend},*` }), /CORS_ORIGINS/)
  t.throws(() => loadConfig({ CORS_ORIGINS: 'https://app.example.test/path' }), /CORS_ORIGINS.*not an origin/)
  t.same(loadConfig({}).CORS_ORIGINS, [], 'empty by default: CORS off')
})

t.test('a preflight from an allowed origin names the route’s methods and headers', async (t) => {
  const cases: Array<[string, string, string]> = [
    ['/oauth/token', 'POST', 'POST'],
    ['/oauth/revoke', 'POST', 'POST'],
    ['/sessions', 'GET', 'GET, DELETE'],
    ['/sessions/abc', 'DELETE', 'DELETE'],
    ['/.well-known/jwks.json', 'GET', 'GET'],
  ]
  for (const [url, method, methods] of cases) {
    const res = await preflight(url, frontend, method, 'authorization, content-type')
    t.equal(res.statusCode, 204, url)
    t.equal(res.headers['access-control-allow-origin'], frontend, `${url}: the origin, never *`)
    t.equal(res.headers['access-control-allow-methods'], methods, `${url}: methods`)
    t.equal(res.headers['access-control-allow-headers'], 'Authorization, Content-Type', `${url}: headers`)
    t.match(res.headers.vary, /Origin/, `${url}: Vary: Origin`)
    t.equal(res.headers['access-control-allow-credentials'], undefined, `${url}: no credentials for a body-client origin`)
  }
})

t.test('credentials only for an origin of the cookie client, and only on /oauth/*', async (t) => {
  const token = await preflight('/oauth/token', webOrigin)
  t.equal(token.headers['access-control-allow-credentials'], 'true')
  const sessions = await preflight('/sessions', webOrigin, 'GET')
  t.equal(sessions.headers['access-control-allow-origin'], webOrigin)
  t.equal(sessions.headers['access-control-allow-credentials'], undefined, '/sessions takes a bearer token, no cookie')
})

t.test('an actual response exposes the headers clients read', async (t) => {
  const res = await app.inject({ method: 'GET', url: '/.well-known/jwks.json', headers: { origin: frontend } })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['access-control-allow-origin'], frontend)
  for (const name of ['WWW-Authenticate', 'Retry-After', 'RateLimit-Remaining', 'X-RateLimit-Remaining']) t.match(res.headers['access-control-expose-headers'], name)
})

t.test('an origin not listed, or a path that is no public route, gets no CORS at all', async (t) => {
  for (const [url, origin] of [
    ['/oauth/token', stranger],
    ['/healthz', frontend],
    ['/admin/keys', frontend],
  ] as const) {
    const res = await preflight(url, origin, 'GET')
    t.equal(res.statusCode, 404, `${url} from ${origin}`)
    t.equal(res.headers['access-control-allow-origin'], undefined)
    t.equal(res.headers['access-control-allow-methods'], undefined)
  }
  const simple = await app.inject({ method: 'GET', url: '/.well-known/jwks.json', headers: { origin: stranger } })
  t.equal(simple.headers['access-control-allow-origin'], undefined)
  t.match(simple.headers.vary, /Origin/, 'Vary: Origin, so a cache never hands one origin’s answer to another')
})

t.test('an allowed cross-origin frontend may not use the cookie client unless registered for it', async (t) => {
  const res = await app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { origin: frontend, 'content-type': 'application/x-www-form-urlencoded' },
    payload: 'grant_type=refresh_token&client_id=web',
  })
  t.equal(res.statusCode, 403)
  t.equal(res.json().error, 'invalid_request')
  t.equal(res.headers['access-control-allow-credentials'], undefined)
})

t.test('the admin listener answers no preflight', async (t) => {
  const res = await service.adminApp!.inject({ method: 'OPTIONS', url: '/admin/keys', headers: { origin: frontend, 'access-control-request-method': 'GET' } })
  t.equal(res.headers['access-control-allow-origin'], undefined)
  t.not(res.statusCode, 204)
})

t.test('CORS_ORIGINS empty: no CORS headers anywhere', async (t) => {
  const off = await build(t, {}, { store: 'memory' })
  const res = await off.publicApp.inject({ method: 'OPTIONS', url: '/oauth/token', headers: { origin: frontend, 'access-control-request-method': 'POST' } })
  t.equal(res.headers['access-control-allow-origin'], undefined)
  t.equal(res.statusCode, 404)
})
