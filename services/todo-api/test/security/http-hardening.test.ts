import t, { type Test } from 'tap'
import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import { build } from '../helpers/build.ts'
import { generateKey, mint } from '../helpers/tokens.ts'

// Cross-cutting HTTP hardening of todo-api: checklist R08 (end to end), R20, R51, R55, R56, R57, R61.
// Errors are application/problem+json (SPEC §10 wins over R61's application/json); every other body
// is application/json; every answer, with a body or not, carries nosniff.

const built = await build(t)
const { app } = built
const auth = await built.auth()
const json = { ...auth, 'content-type': 'application/json' }
app.get('/boom', async () => {
  throw new Error('internal detail that must not leak')
})
const existing = (await app.inject({ method: 'POST', url: '/todos', headers: json, payload: { title: 'exists' } })).json() as { id: string }

const problemType = 'application/problem+json; charset=utf-8'
const jsonType = 'application/json; charset=utf-8'

function expectLabelled(t: Test, response: LightMyRequestResponse, name: string) {
  t.equal(response.headers['x-content-type-options'], 'nosniff', `${name}: nosniff`)
  if (response.body.length === 0) return
  t.equal(response.headers['content-type'], response.statusCode >= 400 ? problemType : jsonType, `${name}: ${response.statusCode >= 400 ? 'problem+json' : 'json'}`)
  t.doesNotThrow(() => JSON.parse(response.body), `${name}: the body is JSON`)
}

t.test('every answer, success or error, is labelled JSON (problem+json for errors) with nosniff (R61)', async (t) => {
  const otherAudience = await built.token({ claims: { aud: 'token-service' } })
  const probes: Array<[string, InjectOptions, number]> = [
    ['list', { url: '/todos', headers: auth }, 200],
    ['one todo', { url: `/todos/${existing.id}`, headers: auth }, 200],
    ['create', { method: 'POST', url: '/todos', headers: json, payload: { title: 'x' } }, 201],
    ['update', { method: 'PATCH', url: `/todos/${existing.id}`, headers: json, payload: { completed: true } }, 200],
    ['healthz', { url: '/healthz' }, 200],
    ['readyz', { url: '/readyz' }, 200],
    ['openapi', { url: '/openapi.json' }, 200],
    ['no token', { url: '/todos' }, 401],
    ['a bad token', { url: '/todos', headers: { authorization: 'Bearer garbage' } }, 401],
    ['another audience', { url: '/todos', headers: { authorization: `Bearer ${otherAudience}` } }, 401],
    ['a malformed Authorization header', { url: '/todos', headers: { authorization: 'Bearer a b' } }, 400],
    ['missing scope', { method: 'POST', url: '/todos', headers: { authorization: `Bearer ${await built.token({ scope: 'todos:read' })}`, 'content-type': 'application/json' }, payload: { title: 'x' } }, 403],
    ['validation', { method: 'POST', url: '/todos', headers: json, payload: { title: '' } }, 400],
    ['not a uuid', { url: '/todos/abc', headers: auth }, 400],
    ['unknown todo', { url: '/todos/6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b', headers: auth }, 404],
    ['unknown route', { url: '/nope' }, 404],
    ['unknown route with a body', { method: 'POST', url: '/nope', headers: { 'content-type': 'application/json' }, payload: '{}' }, 404],
    ['unknown method', { method: 'PUT', url: '/todos', headers: json, payload: '{}' }, 404],
    ['body over the limit', { method: 'POST', url: '/todos', headers: json, payload: JSON.stringify({ title: 'x'.repeat(2 * 1024 * 1024) }) }, 413],
    ['text/plain', { method: 'POST', url: '/todos', headers: { ...auth, 'content-type': 'text/plain' }, payload: 'x' }, 415],
    ['malformed JSON', { method: 'POST', url: '/todos', headers: json, payload: '{' }, 400],
    ['an unexpected error', { url: '/boom' }, 500],
    ['delete one', { method: 'DELETE', url: `/todos/${(await app.inject({ method: 'POST', url: '/todos', headers: json, payload: { title: 'gone' } })).json().id}`, headers: auth }, 204],
  ]
  for (const [name, request, status] of probes) {
    const response = await app.inject(request)
    t.equal(response.statusCode, status, `${name}: ${status}`)
    expectLabelled(t, response, name)
  }
  const metrics = await app.inject({ url: '/metrics' })
  t.match(metrics.headers['content-type'], /^text\/plain; version=0\.0\.4/, 'metrics: Prometheus text, its exposition format')
  t.equal(metrics.headers['x-content-type-options'], 'nosniff', 'metrics: nosniff')
})

t.test('with the key set unreachable and nothing cached, the 503 is labelled too (R61, R22)', async (t) => {
  const cold = await build(t)
  cold.jwks.down = true
  const response = await cold.app.inject({ url: '/todos', headers: await cold.auth() })
  t.equal(response.statusCode, 503)
  expectLabelled(t, response, '503')
})

t.test('every reason a token is invalid gets the same bytes: no oracle (R20), and psychic ES256 signatures are among them (R08)', async (t) => {
  const [h, p, s] = (await built.token()).split('.') as [string, string, string]
  const n = Buffer.from('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551', 'hex')
  const stranger = await generateKey('ES256', built.key.kid) // same kid, unpublished key
  const now = Math.floor(Date.now() / 1000)
  const invalid: Array<[string, string]> = [
    ['garbage', 'garbage'],
    ['expired', await built.token({ claims: { exp: now - 120, iat: now - 1000 } })],
    ['not yet valid', await built.token({ claims: { nbf: now + 600 } })],
    ['another audience', await built.token({ claims: { aud: 'token-service' } })],
    ['another issuer', await built.token({ claims: { iss: 'http://localhost:8080/api/auth' } })],
    ['typ JWT', await built.token({ header: { typ: 'JWT' } })],
    ['unknown kid', await mint(await generateKey())],
    ['same kid, another key', await mint(stranger)],
    ['signature with a bit flipped', `${h}.${p}.${Buffer.from(Buffer.from(s, 'base64url').map((b, i) => (i === 0 ? b ^ 1 : b))).toString('base64url')}`],
    ['r = s = 0 (CVE-2022-21449)', `${h}.${p}.${Buffer.alloc(64).toString('base64url')}`],
    ['r = s = n', `${h}.${p}.${Buffer.concat([n, n]).toString('base64url')}`],
    ['alg none', `${Buffer.from(JSON.stringify({ alg: 'none', kid: built.key.kid, typ: 'at+jwt' })).toString('base64url')}.${p}.`],
    ['alg HS256', `${Buffer.from(JSON.stringify({ alg: 'HS256', kid: built.key.kid, typ: 'at+jwt' })).toString('base64url')}.${p}.${s}`],
    ['scope claim missing', await built.token({ omit: ['scope'] })],
  ]
  const answers = new Set<string>()
  for (const [name, token] of invalid) {
    const response = await app.inject({ url: '/todos', headers: { authorization: `Bearer ${token}` } })
    t.equal(response.statusCode, 401, `${name}: 401`)
    answers.add(JSON.stringify([response.statusCode, response.headers['www-authenticate'], response.headers['content-type'], response.body]))
  }
  t.equal(answers.size, 1, 'one answer for every reason')
  t.match([...answers][0], /ERR_AUTH_INVALID_TOKEN/)
  t.notMatch([...answers][0], /kid|signature|expired|audience|issuer|alg/i, 'the answer names no reason')
})

t.test('prototype keys in bodies are refused or inert, and a duplicated member has one reading (R56)', async (t) => {
  const cases: Array<[string, string, 'POST' | 'PATCH', number, string]> = [
    ['__proto__ at the top', '{"title":"x","__proto__":{"polluted":"yes"}}', 'POST', 400, 'ERR_MALFORMED_JSON'],
    ['__proto__ nested in a value', '{"title":{"__proto__":{"polluted":"yes"}}}', 'POST', 400, 'ERR_MALFORMED_JSON'],
    ['constructor.prototype', '{"title":"x","constructor":{"prototype":{"polluted":"yes"}}}', 'POST', 400, 'ERR_MALFORMED_JSON'],
    ['constructor alone', '{"title":"x","constructor":"y"}', 'POST', 400, 'ERR_VALIDATION'],
    ['PATCH __proto__', '{"__proto__":{"completed":true}}', 'PATCH', 400, 'ERR_MALFORMED_JSON'],
    ['PATCH constructor.prototype', '{"constructor":{"prototype":{"owner":"user-b"}}}', 'PATCH', 400, 'ERR_MALFORMED_JSON'],
  ]
  const before = await built.countTodos()
  for (const [name, payload, method, status, code] of cases) {
    const response = await app.inject({ method, url: method === 'POST' ? '/todos' : `/todos/${existing.id}`, headers: json, payload })
    t.equal(response.statusCode, status, `${name}: ${status}`)
    t.equal(response.json().code, code, `${name}: ${code}`)
  }
  t.equal(await built.countTodos(), before, 'nothing was created')
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype is untouched')

  // JSON.parse keeps the last of repeated members, and it is the only parser of the body: one reading.
  const twice = await app.inject({ method: 'POST', url: '/todos', headers: json, payload: '{"title":"first","completed":false,"title":"last","completed":true}' })
  t.equal(twice.statusCode, 201)
  const row = await built.db.selectFrom('todos').selectAll().where('id', '=', twice.json().id).executeTakeFirstOrThrow()
  t.same([row.title, row.completed], ['last', true], 'the stored todo is what the response says')
  t.same([twice.json().title, twice.json().completed], ['last', true])
})

t.test('PATCH and DELETE bodies are bounded in size and type too (R57)', async (t) => {
  const cases: Array<[string, InjectOptions, number, string]> = [
    ['PATCH over the limit', { method: 'PATCH', url: `/todos/${existing.id}`, headers: json, payload: JSON.stringify({ title: 'x'.repeat(2 * 1024 * 1024) }) }, 413, 'ERR_PAYLOAD_TOO_LARGE'],
    ['PATCH text/plain', { method: 'PATCH', url: `/todos/${existing.id}`, headers: { ...auth, 'content-type': 'text/plain' }, payload: '{"title":"y"}' }, 415, 'ERR_UNSUPPORTED_MEDIA_TYPE'],
    ['PATCH form', { method: 'PATCH', url: `/todos/${existing.id}`, headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'title=y' }, 415, 'ERR_UNSUPPORTED_MEDIA_TYPE'],
    ['PATCH multipart', { method: 'PATCH', url: `/todos/${existing.id}`, headers: { ...auth, 'content-type': 'multipart/form-data; boundary=x' }, payload: '--x--' }, 415, 'ERR_UNSUPPORTED_MEDIA_TYPE'],
    ['DELETE with an XML body', { method: 'DELETE', url: '/todos', headers: { ...auth, 'content-type': 'application/xml' }, payload: '<all/>' }, 415, 'ERR_UNSUPPORTED_MEDIA_TYPE'],
    ['PATCH title of 501 characters', { method: 'PATCH', url: `/todos/${existing.id}`, headers: json, payload: { title: 'é'.repeat(501) } }, 400, 'ERR_VALIDATION'],
    ['PATCH order below a 32-bit integer', { method: 'PATCH', url: `/todos/${existing.id}`, headers: json, payload: { order: -(2 ** 31) - 1 } }, 400, 'ERR_VALIDATION'],
  ]
  const before = await built.db.selectFrom('todos').selectAll().orderBy('id').execute()
  for (const [name, request, status, code] of cases) {
    const response = await app.inject(request)
    t.equal(response.statusCode, status, `${name}: ${status}`)
    t.equal(response.json().code, code, `${name}: ${code}`)
  }
  t.same(await built.db.selectFrom('todos').selectAll().orderBy('id').execute(), before, 'nothing changed')
  const longest = await app.inject({ method: 'PATCH', url: `/todos/${existing.id}`, headers: json, payload: { title: 'é'.repeat(500) } })
  t.equal(longest.statusCode, 200, 'control: 500 characters (1000 UTF-8 bytes) are fine')
})

t.test('titles that look like SQL or carry odd characters are stored verbatim, never interpreted (R55)', async (t) => {
  const titles = ["'); DROP TABLE todos; --", "x' OR '1'='1", '$1 $2 ${owner}', '\\x00 \\\\ %s %d', '🙂 ünïcödé ‮rtl', "owner = 'user-b'"]
  for (const title of titles) {
    const created = await app.inject({ method: 'POST', url: '/todos', headers: json, payload: { title } })
    t.equal(created.statusCode, 201, `${JSON.stringify(title)}: created`)
    const read = await app.inject({ url: `/todos/${created.json().id}`, headers: auth })
    t.equal(read.json().title, title, `${JSON.stringify(title)}: read back verbatim`)
    const row = await built.db.selectFrom('todos').select(['title', 'owner']).where('id', '=', created.json().id).executeTakeFirstOrThrow()
    t.same(row, { title, owner: 'user-a' }, `${JSON.stringify(title)}: stored verbatim for its owner`)
  }
  t.ok((await built.countTodos()) > titles.length, 'the table is still there')
})

t.test('no CORS grant for any Origin, on preflights or requests (R51)', async (t) => {
  for (const origin of ['https://evil.example', 'http://localhost:8080', 'null']) {
    for (const url of ['/todos', `/todos/${existing.id}`, '/healthz']) {
      const preflight = await app.inject({ method: 'OPTIONS', url, headers: { origin, 'access-control-request-method': 'DELETE', 'access-control-request-headers': 'authorization' } })
      const actual = await app.inject({ url, headers: { origin, ...auth } })
      for (const [kind, response] of [
        ['preflight', preflight],
        ['request', actual],
      ] as const) {
        t.same(
          Object.keys(response.headers).filter((name) => name.startsWith('access-control-')),
          [],
          `${kind} ${url} from ${origin}: no Access-Control-* header`,
        )
      }
    }
  }
})
