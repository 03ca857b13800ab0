// A whole realistic session through the development gateway, then hostile requests that put tokens
// and secrets in query strings, headers, unknown paths and wrong methods, on the gateway and on every
// service directly. Every log line of every process (identity, token-service, todo-api, the gateway)
// and every error body is searched for every secret used: zero hits (checklist R19).
import t from 'tap'
import { hostPort, startGateway } from './helpers/gateways.ts'
import { startRealServices } from './helpers/real-services.ts'

const services = await startRealServices('no_secrets', 'trace')
t.teardown(() => services.close())
const { identity, tokenService, todoApi } = services
const gateway = await startGateway('node', { identity: hostPort(identity.url), 'token-service': hostPort(tokenService.url), 'todo-api': hostPort(todoApi.url) }, { GATEWAY_LOG_LEVEL: 'info' })
t.teardown(() => gateway.stop())
const base = gateway.url
const origin = 'http://localhost:8080'
const exchangeGrant = 'urn:ietf:params:oauth:grant-type:token-exchange'
const jwtType = 'urn:ietf:params:oauth:token-type:jwt'

/** Every secret the session uses, by what it is (for a readable failure). */
const secrets = new Map<string, string>([
  ['BETTER_AUTH_SECRET', services.secrets.betterAuthSecret],
  ['KEY_ENCRYPTION_KEY', services.secrets.keyEncryptionKey],
  ['ADMIN_TOKEN', services.secrets.adminToken],
])
/** Error bodies of the hostile requests, each with the secrets that request carried. */
const bodies: { what: string; text: string }[] = []

const form = (params: Record<string, string>) => ({ 'content-type': 'application/x-www-form-urlencoded', body: new URLSearchParams(params).toString() })
async function call(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  const { method = 'GET', headers = {}, body } = init
  const response = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}) })
  return { status: response.status, text: await response.text(), headers: response.headers }
}
const postForm = (url: string, params: Record<string, string>, headers: Record<string, string> = {}) => {
  const { 'content-type': type, body } = form(params)
  return call(url, { method: 'POST', headers: { 'content-type': type, ...headers }, body })
}
const postJson = (url: string, value: unknown, headers: Record<string, string> = {}) => call(url, { method: 'POST', headers: { 'content-type': 'application/json', origin, ...headers }, body: JSON.stringify(value) })

/** `name=value` of BetterAuth's session cookie in an answer. */
const sessionCookie = (headers: Headers) =>
  headers
    .getSetCookie()
    .find((c) => c.includes('session_token='))!
    .split(';')[0]!

t.test('a whole session through the gateway: sign up, exchange, refresh, todos, sessions, revoke, sign in', async (t) => {
  const email = `logs-${Date.now()}@example.test`
  const password = `pw-${crypto.randomUUID()}`
  secrets.set('password', password)
  const signUp = await call(`${base}/api/auth/sign-up/email`, { method: 'POST', headers: { 'content-type': 'application/json', origin }, body: JSON.stringify({ name: 'Logs', email, password }) })
  t.equal(signUp.status, 200, 'sign-up')
  const cookie = sessionCookie(signUp.headers)
  secrets.set('session cookie', cookie.split('=')[1]!)
  const jwt = (JSON.parse((await call(`${base}/api/auth/token`, { headers: { cookie } })).text) as { token: string }).token
  secrets.set('BetterAuth JWT', jwt)

  const exchanged = JSON.parse((await postForm(`${base}/oauth/token`, { grant_type: exchangeGrant, subject_token: jwt, subject_token_type: jwtType, client_id: 'cli' })).text) as { access_token: string; refresh_token: string }
  secrets.set('access token', exchanged.access_token)
  secrets.set('refresh token', exchanged.refresh_token)
  const refreshed = await postForm(`${base}/oauth/token`, { grant_type: 'refresh_token', refresh_token: exchanged.refresh_token, client_id: 'cli' })
  t.equal(refreshed.status, 200, 'refresh')
  const rotated = JSON.parse(refreshed.text) as { access_token: string; refresh_token: string }
  secrets.set('rotated access token', rotated.access_token)
  secrets.set('rotated refresh token', rotated.refresh_token)
  const bearer = { authorization: `Bearer ${rotated.access_token}` }

  const todo = await call(`${base}/todos`, { method: 'POST', headers: { ...bearer, 'content-type': 'application/json' }, body: JSON.stringify({ title: 'logged?' }) })
  t.equal(todo.status, 201, 'create a todo')
  const { id } = JSON.parse(todo.text) as { id: string }
  t.equal((await call(`${base}/todos`, { headers: bearer })).status, 200, 'list todos')
  t.equal((await call(`${base}/todos/${id}`, { method: 'PATCH', headers: { ...bearer, 'content-type': 'application/json' }, body: JSON.stringify({ completed: true }) })).status, 200, 'update it')
  t.equal((await call(`${base}/sessions`, { headers: bearer })).status, 200, 'list sessions')
  t.equal((await call(`${base}/todos/${id}`, { method: 'DELETE', headers: bearer })).status, 204, 'delete it')
  t.equal((await postForm(`${base}/oauth/revoke`, { token: rotated.refresh_token, client_id: 'cli' })).status, 200, 'revoke')
  const signIn = await postJson(`${base}/api/auth/sign-in/email`, { email, password })
  t.equal(signIn.status, 200, 'sign in again')
  const cookie2 = sessionCookie(signIn.headers)
  secrets.set('second session cookie', cookie2.split('=')[1]!)
  t.equal((await postJson(`${base}/api/auth/sign-in/email`, { email, password: `${password}-wrong` })).status, 401, 'a wrong password')
  secrets.set('wrong password', `${password}-wrong`)
  t.equal((await postJson(`${base}/api/auth/sign-out`, {}, { cookie: cookie2 })).status, 200, 'sign out')
})

t.test('hostile requests: secrets in query strings, headers, unknown paths, wrong methods', async (t) => {
  const s = (name: string) => secrets.get(name)!
  const rt = s('refresh token')
  const at = s('rotated access token')
  const jwt = s('BetterAuth JWT')
  const admin = s('ADMIN_TOKEN')
  const query = `refresh_token=${rt}&access_token=${at}&subject_token=${jwt}&password=${encodeURIComponent(s('password'))}&token=${admin}&key=${s('KEY_ENCRYPTION_KEY')}&secret=${s('BETTER_AUTH_SECRET')}&cookie=${s('session cookie')}`
  const headers = { authorization: `Bearer ${at}`, cookie: `better-auth.session_token=${s('session cookie')}; __Secure-refresh_token=${rt}`, 'x-admin-token': admin, 'x-api-key': s('KEY_ENCRYPTION_KEY') }
  const targets = { gateway: base, identity: identity.url, 'token-service': tokenService.url, 'todo-api': todoApi.url, 'token-service admin': tokenService.adminUrl! }
  const requests: [string, string, { body?: string; type?: string }][] = [
    ['GET', '/oauth/token', {}],
    ['PUT', '/oauth/token', {}],
    ['DELETE', '/oauth/revoke', {}],
    ['POST', '/oauth/token', { type: 'application/x-www-form-urlencoded', body: 'grant_type=refresh_token&client_id=cli' }],
    ['POST', '/oauth/token', { type: 'application/json', body: '{"grant_type":' }],
    ['GET', '/no/such/path', {}],
    ['PATCH', '/sessions', {}],
    ['GET', '/todos', {}],
    ['PUT', '/todos', {}],
    ['GET', '/api/auth/no-such-endpoint', {}],
    ['GET', '/api/auth/get-session', {}],
    ['DELETE', '/api/auth/sign-in/email', {}],
    ['GET', '/admin/keys', {}],
    ['POST', '/admin/keys/rotate', {}],
    ['GET', '/.well-known/jwks.json', {}],
    ['GET', '/index.html', {}],
  ]
  let answered = 0
  for (const [name, target] of Object.entries(targets)) {
    for (const [method, path, { body, type }] of requests) {
      const reply = await call(`${target}${path}?${query}`, { method, headers: { ...headers, ...(type ? { 'content-type': type } : {}) }, ...(body !== undefined ? { body } : {}) })
      t.ok(reply.status < 500 || reply.status === 502, `${name} ${method} ${path}: not a 5xx (${reply.status})`)
      if (reply.status >= 400) bodies.push({ what: `${name} ${method} ${path} → ${reply.status}`, text: reply.text })
      answered += 1
    }
  }
  // The admin listener with its real token, secrets in the query.
  const adminReply = await call(`${tokenService.adminUrl}/admin/keys?${query}`, { headers: { authorization: `Bearer ${admin}` } })
  t.equal(adminReply.status, 200, 'the admin API still answers')
  t.equal(answered, Object.keys(targets).length * requests.length)
})

t.test('no log line and no error body holds any secret; no logged URL keeps a query string', async (t) => {
  const processes = { identity: identity.lines, 'token-service': tokenService.lines, 'todo-api': todoApi.lines, gateway: gateway.lines }
  t.ok(secrets.size >= 12, `${secrets.size} secrets collected`)
  for (const [name, lines] of Object.entries(processes)) {
    t.ok(lines.length > 20, `${name}: ${lines.length} log lines read`)
    for (const [what, value] of secrets) {
      const hits = lines.filter((line) => line.includes(value) || line.includes(encodeURIComponent(value)))
      t.same(hits, [], `${name}: no ${what} in any log line`)
    }
    const urls = lines.flatMap((line) => [...line.matchAll(/"url":"([^"]*)"/g)].map((m) => m[1]!))
    t.ok(urls.length > 0, `${name}: logs request URLs`)
    t.same(
      urls.filter((url) => url.includes('?') && !url.endsWith('?[redacted]')),
      [],
      `${name}: every logged URL is a path, its query string redacted`,
    )
  }
  for (const { what, text } of bodies) {
    const leaked = [...secrets].filter(([, value]) => text.includes(value) || text.includes(encodeURIComponent(value))).map(([name]) => name)
    t.same(leaked, [], `${what}: the body echoes no secret`)
    t.notMatch(text, /refresh_token=|access_token=|subject_token=/, `${what}: the body echoes no query string`)
  }
})
