import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { startIdentity } from '@todo-auth/testkit'
import { build, testClock } from '../helpers/build.ts'
import { exchange, identityEnv, post, setCookieHeaders, webOrigin } from './helpers.ts'

const identity = await startIdentity()
t.teardown(() => identity.close())
const env = { ...identityEnv(identity), RATE_LIMIT_MAX: '100000' }

interface ParsedCookie {
  name: string
  value: string
  attributes: Record<string, string | true>
}

function parseSetCookie(header: string): ParsedCookie {
  const [pair, ...rest] = header.split(';').map((part) => part.trim())
  const eq = pair!.indexOf('=')
  const attributes: Record<string, string | true> = {}
  for (const attribute of rest) {
    const i = attribute.indexOf('=')
    if (i === -1) attributes[attribute.toLowerCase()] = true
    else attributes[attribute.slice(0, i).toLowerCase()] = attribute.slice(i + 1)
  }
  return { name: pair!.slice(0, eq), value: pair!.slice(eq + 1), attributes }
}

function onlyCookie(t: Test, headers: Record<string, unknown>): ParsedCookie {
  const cookies = setCookieHeaders(headers)
  t.equal(cookies.length, 1, 'one Set-Cookie')
  return parseSetCookie(cookies[0]!)
}

const webRefresh = (app: FastifyInstance, cookie: string | undefined, headers: Record<string, string> = { origin: webOrigin }) =>
  post(app, '/oauth/token', { grant_type: 'refresh_token', client_id: 'web' }, { ...headers, ...(cookie ? { cookie } : {}) })

const webRevoke = (app: FastifyInstance, cookie: string | undefined, headers: Record<string, string> = { origin: webOrigin }) => post(app, '/oauth/revoke', { client_id: 'web' }, { ...headers, ...(cookie ? { cookie } : {}) })

t.test('the web client gets its refresh token only as a Secure, HttpOnly, SameSite=Strict cookie on /oauth', async (t) => {
  const app = await build(t, env)
  const { jwt } = await identity.signUp()
  const response = await exchange(app.publicApp, jwt, { client_id: 'web' }, { origin: webOrigin })
  t.equal(response.statusCode, 200)
  const body = response.json()
  t.notOk('refresh_token' in body, 'no refresh token in the body')
  t.ok(body.access_token)
  const cookie = onlyCookie(t, response.headers)
  t.equal(cookie.name, '__Secure-refresh_token')
  t.match(cookie.value, /^[A-Za-z0-9_-]{64}$/)
  t.same(cookie.attributes, { 'max-age': '604800', path: '/oauth', httponly: true, secure: true, samesite: 'Strict' }, 'exactly these attributes')
  t.ok(`${cookie.name}=${cookie.value}`.length <= 4096, 'name and value within 4096 bytes')
  t.notOk(response.headers['access-control-allow-origin'], 'no CORS grant')
})

t.test('a request that would set the cookie without an allowed Origin is refused with 403 invalid_request', async (t) => {
  const app = await build(t, env)
  const { jwt } = await identity.signUp()
  const cases: Array<[string, Record<string, string>]> = [
    ['no Origin', {}],
    ['a foreign Origin', { origin: 'https://evil.example' }],
    ['Origin null', { origin: 'null' }],
    ['a look-alike Origin', { origin: 'http://localhost:8080.evil.example' }],
    ['an Origin with a path', { origin: 'http://localhost:8080/' }],
    ['another port', { origin: 'http://localhost:8081' }],
    ['Sec-Fetch-Site cross-site', { origin: webOrigin, 'sec-fetch-site': 'cross-site' }],
  ]
  for (const [label, headers] of cases) {
    const response = await exchange(app.publicApp, jwt, { client_id: 'web' }, headers)
    t.equal(response.statusCode, 403, `${label}: 403`)
    t.equal(response.json().error, 'invalid_request', `${label}: invalid_request`)
    t.same(setCookieHeaders(response.headers), [], `${label}: no cookie`)
  }
  const sameOrigin = await exchange(app.publicApp, jwt, { client_id: 'web' }, { origin: 'http://127.0.0.1:8080', 'sec-fetch-site': 'same-origin' })
  t.equal(sameOrigin.statusCode, 200, 'the second allowed origin with Sec-Fetch-Site same-origin passes')
})

t.test('refreshing with the cookie rotates it, Max-Age follows the remaining session lifetime, and a bad Origin spends nothing', async (t) => {
  const clock = testClock()
  const app = await build(t, env, { deps: { clock } })
  const { jwt } = await identity.signUp()
  const first = onlyCookie(t, (await exchange(app.publicApp, jwt, { client_id: 'web' }, { origin: webOrigin })).headers)
  const cookieHeader = `${first.name}=${first.value}`

  for (const [label, headers] of [
    ['no Origin', {}],
    ['a foreign Origin', { origin: 'https://evil.example' }],
    ['cross-site fetch', { origin: webOrigin, 'sec-fetch-site': 'cross-site' }],
  ] as const) {
    const refused = await webRefresh(app.publicApp, cookieHeader, headers)
    t.equal(refused.statusCode, 403, `${label}: 403`)
    t.equal(refused.json().error, 'invalid_request')
  }
  // Cookie tossing: a second cookie of the same name planted by a sibling subdomain.
  for (const tossed of [`${first.name}=planted; ${cookieHeader}`, `${cookieHeader}; ${first.name}=planted`]) {
    const refused = await webRefresh(app.publicApp, tossed)
    t.equal(refused.statusCode, 400, 'a duplicated refresh cookie: 400')
    t.equal(refused.json().error, 'invalid_request')
    const revokeRefused = await webRevoke(app.publicApp, tossed)
    t.equal(revokeRefused.statusCode, 400, 'revoke with a duplicated refresh cookie: 400')
  }
  const noCookie = await webRefresh(app.publicApp, undefined)
  t.equal(noCookie.statusCode, 400)
  t.equal(noCookie.json().error, 'invalid_request', 'no cookie: invalid_request')

  clock.advance(3_600_000)
  const refreshed = await webRefresh(app.publicApp, cookieHeader)
  t.equal(refreshed.statusCode, 200, 'the refused requests spent nothing')
  t.notOk('refresh_token' in refreshed.json())
  const second = onlyCookie(t, refreshed.headers)
  t.not(second.value, first.value, 'rotated')
  t.equal(second.attributes['max-age'], String(604_800 - 3600), 'Max-Age is the remaining session lifetime')
  t.equal(second.attributes.samesite, 'Strict')

  const stale = await webRefresh(app.publicApp, cookieHeader)
  t.equal(stale.statusCode, 200, 'the old cookie repeated inside the grace window (a second tab)')
  t.equal(onlyCookie(t, stale.headers).value, second.value, 'gets the same successor')
})

t.test('revoking with the cookie ends the session and clears the cookie; revoke also needs an allowed Origin', async (t) => {
  const app = await build(t, env)
  const { jwt } = await identity.signUp()
  const cookie = onlyCookie(t, (await exchange(app.publicApp, jwt, { client_id: 'web' }, { origin: webOrigin })).headers)
  const cookieHeader = `${cookie.name}=${cookie.value}`

  const foreign = await webRevoke(app.publicApp, cookieHeader, { origin: 'https://evil.example' })
  t.equal(foreign.statusCode, 403)
  t.equal(foreign.json().error, 'invalid_request')
  t.equal((await webRefresh(app.publicApp, cookieHeader)).statusCode, 200, 'a refused revoke changed nothing')

  const revoked = await webRevoke(app.publicApp, cookieHeader)
  t.equal(revoked.statusCode, 200)
  t.equal(revoked.headers['cache-control'], 'no-store')
  const cleared = onlyCookie(t, revoked.headers)
  t.equal(cleared.name, '__Secure-refresh_token')
  t.equal(cleared.value, '')
  t.equal(cleared.attributes['max-age'], '0')
  t.equal(cleared.attributes.path, '/oauth')
  t.match(String(cleared.attributes.expires), /1970/)
  const after = await webRefresh(app.publicApp, cookieHeader)
  t.equal(after.statusCode, 400)
  t.equal(after.json().error, 'invalid_grant', 'the session is gone')

  const noCookie = await webRevoke(app.publicApp, undefined)
  t.equal(noCookie.statusCode, 200, 'revoking without a cookie is fine (already signed out)')
  t.equal(onlyCookie(t, noCookie.headers).value, '')
})

t.test('COOKIE_SECURE=false (plain-http development) drops Secure and the __Secure- prefix, nothing else', async (t) => {
  const app = await build(t, { ...env, COOKIE_SECURE: 'false' })
  const { jwt } = await identity.signUp()
  const cookie = onlyCookie(t, (await exchange(app.publicApp, jwt, { client_id: 'web' }, { origin: webOrigin })).headers)
  t.equal(cookie.name, 'refresh_token')
  t.same(cookie.attributes, { 'max-age': '604800', path: '/oauth', httponly: true, samesite: 'Strict' })
  const refreshed = await webRefresh(app.publicApp, `refresh_token=${cookie.value}`)
  t.equal(refreshed.statusCode, 200)
})

t.test('no CORS: a preflight gets no Access-Control-Allow-Origin', async (t) => {
  const app = await build(t, env)
  const preflight = await app.publicApp.inject({
    method: 'OPTIONS',
    url: '/oauth/token',
    headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
  })
  t.notOk(preflight.headers['access-control-allow-origin'])
  t.notOk(preflight.headers['access-control-allow-credentials'])
})
