// Hostile JSON bodies against the real services: nesting 10,000 levels deep (a stack
// overflow in whatever walks the value, e.g. BetterAuth's JSON.stringify) and NUL
// characters (PostgreSQL refuses them in text). Each is a 400 with a stable code in
// the service's own error style, never a 5xx; the services keep working after.
import t from 'tap'
import { jsonMaxDepth } from '@todo-auth/service-config'
import { startRealServices } from './helpers/real-services.ts'

const services = await startRealServices('hostile_json')
t.teardown(() => services.close())
const { identity, tokenService, todoApi } = services
const origin = 'http://localhost:8080'

const deep = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`
const deepArray = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`
/** A JSON text whose string holds an escaped NUL, as a client's JSON.stringify writes it. */
const withNul = (value: Record<string, string>) => JSON.stringify(value)
const nul = '\u0000'

async function send(url: string, method: string, body: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { method, headers: { 'content-type': 'application/json', ...headers }, body })
  const text = await response.text()
  let json: Record<string, unknown> = {}
  try {
    json = JSON.parse(text) as Record<string, unknown>
  } catch {}
  return { status: response.status, json, text, type: response.headers.get('content-type') ?? '' }
}

const user = await identity.signUp()
const authHeaders = { origin, cookie: user.cookie }
const exchanged = (await (
  await fetch(tokenService.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: user.jwt, subject_token_type: 'urn:ietf:params:oauth:token-type:jwt', client_id: 'cli' }),
  })
).json()) as { access_token: string }
const bearer = { authorization: `Bearer ${exchanged.access_token}` }
const created = (await send(`${todoApi.url}/todos`, 'POST', JSON.stringify({ title: 'target' }), bearer)).json as { id: string }

t.test('identity: too deep → 400 JSON_TOO_DEEP, NUL → 400 INVALID_CHARACTERS', async (t) => {
  const endpoints = [
    ['sign-up', '/api/auth/sign-up/email', { name: `x${nul}y`, email: 'nul@example.test', password: 'a-long-password-1' }],
    ['sign-in', '/api/auth/sign-in/email', { email: `${user.email}${nul}`, password: user.password }],
    ['update-user', '/api/auth/update-user', { name: `evil${nul}`, image: `https://example.test/${nul}.png` }],
  ] as const
  for (const [name, path, fields] of endpoints) {
    for (const body of [deep(10_000), deepArray(10_000), deep(jsonMaxDepth + 1)]) {
      const reply = await send(`${identity.url}${path}`, 'POST', body, authHeaders)
      t.equal(reply.status, 400, `${name}: ${body.length} bytes nested too deep is 400`)
      t.equal(reply.json.code, 'JSON_TOO_DEEP', `${name}: code JSON_TOO_DEEP`)
    }
    const reply = await send(`${identity.url}${path}`, 'POST', withNul(fields), authHeaders)
    t.equal(reply.status, 400, `${name}: a NUL character is 400`)
    t.equal(reply.json.code, 'INVALID_CHARACTERS', `${name}: code INVALID_CHARACTERS`)
  }
  const update = await send(`${identity.url}/api/auth/update-user`, 'POST', JSON.stringify({ name: 'Still Works' }), authHeaders)
  t.equal(update.status, 200, 'a normal update-user still works')
  const session = await fetch(`${identity.url}/api/auth/get-session`, { headers: { cookie: user.cookie } })
  t.equal(((await session.json()) as { user: { name: string } }).user.name, 'Still Works')
})

t.test('token-service /oauth/token: too deep or NUL → 400 invalid_request', async (t) => {
  // Its body limit is 16 KiB (a larger body is a 413): as deep as fits in that.
  for (const body of [deep(2_500), deepArray(8_000), `{"grant_type":"refresh_token","x":${deep(jsonMaxDepth)}}`]) {
    const reply = await send(tokenService.tokenUrl, 'POST', body)
    t.equal(reply.status, 400, `${body.length} bytes nested too deep is 400`)
    t.equal(reply.json.error, 'invalid_request')
    t.match(String(reply.json.error_description), /nested deeper than 32/)
  }
  const reply = await send(tokenService.tokenUrl, 'POST', withNul({ grant_type: 'refresh_token', client_id: 'cli', refresh_token: `a${nul}b` }))
  t.equal(reply.status, 400, 'a NUL character is 400')
  t.equal(reply.json.error, 'invalid_request')
  t.match(String(reply.json.error_description), /NUL/)
})

t.test('todo-api POST/PATCH /todos: too deep → ERR_JSON_TOO_DEEP, NUL → ERR_INVALID_CHARACTERS (problem+json)', async (t) => {
  for (const [method, url] of [
    ['POST', `${todoApi.url}/todos`],
    ['PATCH', `${todoApi.url}/todos/${created.id}`],
  ] as const) {
    for (const body of [deep(10_000), deepArray(10_000), `{"title":${deep(jsonMaxDepth)}}`]) {
      const reply = await send(url, method, body, bearer)
      t.equal(reply.status, 400, `${method}: nested too deep is 400`)
      t.equal(reply.json.code, 'ERR_JSON_TOO_DEEP')
      t.match(reply.type, /application\/problem\+json/)
    }
    const reply = await send(url, method, withNul({ title: `a${nul}b` }), bearer)
    t.equal(reply.status, 400, `${method}: a NUL character in the title is 400`)
    t.equal(reply.json.code, 'ERR_INVALID_CHARACTERS')
  }
  const fine = await send(`${todoApi.url}/todos/${created.id}`, 'PATCH', JSON.stringify({ title: 'a\\u0000 is only text here' }), bearer)
  t.equal(fine.status, 200, 'an escaped backslash before u0000 is ordinary text, not a NUL')
})

t.test('no service logged a 5xx or a crash', async (t) => {
  for (const [name, lines] of [
    ['identity', identity.lines],
    ['token-service', tokenService.lines],
    ['todo-api', todoApi.lines],
  ] as const) {
    const failures = lines.filter((line) => /"level":(50|60)|"statusCode":5\d\d|RangeError|Maximum call stack/.test(line))
    t.same(failures, [], `${name}: no error-level log line`)
  }
})
