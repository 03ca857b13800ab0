// CORS on /todos (@fastify/cors with CORS_ORIGINS): preflights answered before the bearer check,
// never credentials, nothing for other origins or other paths, and `*` refused in config.
import t from 'tap'
import { loadConfig } from '../src/config.ts'
import { build } from './helpers/build.ts'

const frontend = 'https://app.example.test'
const built = await build(t, { CORS_ORIGINS: frontend })
const { app } = built

const preflight = (url: string, origin: string, method: string) => app.inject({ method: 'OPTIONS', url, headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization, content-type' } })

t.test('CORS_ORIGINS refuses `*` and is off by default', async (t) => {
  t.throws(() => loadConfig({ CORS_ORIGINS: '*' }), /CORS_ORIGINS.*`\*` is refused/)
  t.same(loadConfig({}).corsOrigins, [])
})

t.test('a preflight names the methods of the route and both request headers, without a token', async (t) => {
  for (const [url, method, methods] of [
    ['/todos', 'POST', 'GET, POST, DELETE'],
    ['/todos/abc', 'PATCH', 'GET, PATCH, DELETE'],
  ] as const) {
    const res = await preflight(url, frontend, method)
    t.equal(res.statusCode, 204, url)
    t.equal(res.headers['access-control-allow-origin'], frontend)
    t.equal(res.headers['access-control-allow-methods'], methods)
    t.equal(res.headers['access-control-allow-headers'], 'Authorization, Content-Type')
    t.equal(res.headers['access-control-allow-credentials'], undefined, 'never credentials')
    t.equal(res.headers['access-control-max-age'], '600')
    t.match(res.headers.vary, /Origin/)
  }
})

t.test('answers expose Location, Link and WWW-Authenticate', async (t) => {
  const denied = await app.inject({ method: 'GET', url: '/todos', headers: { origin: frontend } })
  t.equal(denied.statusCode, 401)
  t.equal(denied.headers['access-control-allow-origin'], frontend, 'a 401 is readable too, with its challenge')
  const created = await app.inject({ method: 'POST', url: '/todos', headers: { origin: frontend, ...(await built.auth()) }, payload: { title: 'x' } })
  t.equal(created.statusCode, 201)
  for (const name of ['Location', 'Link', 'WWW-Authenticate', 'Retry-After']) t.match(created.headers['access-control-expose-headers'], name)
})

t.test('another origin, or a path that is not /todos, gets no CORS', async (t) => {
  for (const [url, origin] of [
    ['/todos', 'https://evil.example.test'],
    ['/metrics', frontend],
    ['/openapi.json', frontend],
  ] as const) {
    const res = await preflight(url, origin, 'GET')
    t.equal(res.headers['access-control-allow-origin'], undefined, `${url} from ${origin}`)
    t.not(res.statusCode, 204)
  }
})
