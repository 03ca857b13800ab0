import t from 'tap'
import { Compile } from 'typebox/compile'
import { createLocalJWKSet, jwtVerify, SignJWT } from 'jose'
import { AuthorizationServerMetadata, Jwks } from '@todo-auth/contracts'
import { build, testClock } from '../helpers/build.ts'

const jwksCheck = Compile(Jwks)
const metadataCheck = Compile(AuthorizationServerMetadata)
const privateMembers = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth']

for (const store of ['redis', 'memory'] as const) {
  t.test(`the JWKS publishes the current and next public keys only (${store} store)`, async (t) => {
    const app = await build(t, {}, { store })
    const res = await app.publicApp.inject({ method: 'GET', url: '/.well-known/jwks.json' })
    t.equal(res.statusCode, 200)
    t.match(res.headers['content-type'], /^application\/json/)
    const body = res.json()
    t.ok(jwksCheck.Check(body), 'matches the Jwks contract schema')
    t.equal(body.keys.length, 2, 'current + next')
    const kids = body.keys.map((k: { kid: string }) => k.kid)
    t.equal(new Set(kids).size, kids.length, 'distinct kids')
    for (const key of body.keys) {
      for (const member of privateMembers) t.notOk(member in key, `no private member ${member}`)
      t.not(key.kty, 'oct')
      t.equal(key.use, 'sig')
      t.equal(key.alg, 'ES256')
      t.equal(key.kty, 'EC')
      t.equal(key.crv, 'P-256')
    }
    t.ok(kids.includes(app.keys.signingKey().kid), 'the signing key is published')
  })
}

t.test('a token signed with the current key verifies against the published JWKS', async (t) => {
  const app = await build(t)
  const { kid, alg, privateKey } = app.keys.signingKey()
  const jwt = await new SignJWT({ sub: 'u1' }).setProtectedHeader({ alg, kid, typ: 'at+jwt' }).setIssuedAt().setExpirationTime('5m').sign(privateKey)
  const res = await app.publicApp.inject({ method: 'GET', url: '/.well-known/jwks.json' })
  const { payload } = await jwtVerify(jwt, createLocalJWKSet(res.json()), { algorithms: ['ES256'] })
  t.equal(payload.sub, 'u1')
  const local = await jwtVerify(jwt, (header) => app.keys.verificationKey(header), { algorithms: ['ES256'] })
  t.equal(local.payload.sub, 'u1', 'verificationKey resolves the same key')
  await t.rejects(app.keys.verificationKey({ alg: 'RS256', kid }), { code: 'ERR_JWKS_NO_MATCHING_KEY' }, 'the key is bound to its alg')
  await t.rejects(app.keys.verificationKey({ alg: 'ES256', kid: 'nope' }), { code: 'ERR_JWKS_NO_MATCHING_KEY' })
  await t.rejects(app.keys.verificationKey({ alg: 'ES256' }), { code: 'ERR_JWKS_NO_MATCHING_KEY' }, 'no kid')
})

t.test('the JWKS has a strong ETag and answers 304 to a matching If-None-Match', async (t) => {
  const app = await build(t)
  const first = await app.publicApp.inject({ method: 'GET', url: '/.well-known/jwks.json' })
  const etag = first.headers.etag as string
  t.match(etag, /^"[A-Za-z0-9_-]+"$/, 'strong ETag (no W/)')
  const again = await app.publicApp.inject({ method: 'GET', url: '/.well-known/jwks.json' })
  t.equal(again.headers.etag, etag, 'stable while the key set is')
  t.equal(again.body, first.body)
  const cases: [string, number][] = [
    [etag, 304],
    [`W/${etag}`, 304],
    [`"other", ${etag}`, 304],
    ['"other",W/"x"', 200],
    ['*', 304],
    ['"nope"', 200],
    ['', 200],
  ]
  for (const [header, status] of cases) {
    const res = await app.publicApp.inject({ method: 'GET', url: '/.well-known/jwks.json', headers: { 'if-none-match': header } })
    t.equal(res.statusCode, status, `If-None-Match ${JSON.stringify(header)} → ${status}`)
    t.equal(res.headers.etag, etag)
    t.match(res.headers['cache-control'], /^public, max-age=\d+$/)
    if (status === 304) t.equal(res.body, '', 'no body on 304')
  }
})

t.test('the JWKS max-age is at most JWKS_MAX_AGE and never outlives the next planned rotation', async (t) => {
  const clock = testClock()
  const app = await build(t, { JWKS_MAX_AGE: '600', KEY_PUBLISH_MARGIN: '60', KEY_ROTATION_INTERVAL: '3600' }, { deps: { clock } })
  const maxAge = async () => {
    const res = await app.publicApp.inject({ method: 'GET', url: '/.well-known/jwks.json' })
    return Number(/max-age=(\d+)/.exec(res.headers['cache-control'] as string)![1])
  }
  t.equal(await maxAge(), 600, 'far from any change: JWKS_MAX_AGE')
  clock.advance((3600 - 100) * 1000)
  t.equal(await maxAge(), 100, '100 s before the planned rotation: 100')
  clock.advance(100 * 1000)
  t.equal(await maxAge(), 0, 'rotation due: 0')
})

t.test('the authorization server metadata follows RFC 8414 and SPEC §7', async (t) => {
  const app = await build(t, { ISSUER: 'https://auth.example.com' })
  const res = await app.publicApp.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json/)
  const body = res.json()
  t.ok(metadataCheck.Check(body), 'matches the AuthorizationServerMetadata contract schema')
  t.equal(body.issuer, 'https://auth.example.com')
  t.equal(body.token_endpoint, 'https://auth.example.com/oauth/token')
  t.equal(body.jwks_uri, 'https://auth.example.com/.well-known/jwks.json')
  t.equal(body.revocation_endpoint, 'https://auth.example.com/oauth/revoke')
  t.equal(body.introspection_endpoint, 'https://auth.example.com/oauth/introspect')
  t.same(body.introspection_endpoint_auth_methods_supported, ['client_secret_basic'])
  t.same(body.grant_types_supported, ['urn:ietf:params:oauth:grant-type:token-exchange', 'refresh_token'])
  t.same(body.token_endpoint_auth_methods_supported, ['none'])
  t.same(body.scopes_supported, ['todos:read', 'todos:write'])
  // RFC 8414 §2: a claim with zero elements is omitted, never an empty array.
  t.notOk('response_types_supported' in body, 'no response_types_supported (there is no authorization endpoint)')
  for (const [member, value] of Object.entries(body)) if (Array.isArray(value)) t.ok(value.length > 0, `${member} is not empty`)
})

t.test("scopes_supported is the union of every registered client's scopes", async (t) => {
  const clients = [
    { client_id: 'a', refresh_token_delivery: 'body', scopes: ['todos:read', 'extra:x'] },
    { client_id: 'b', refresh_token_delivery: 'body', scopes: ['todos:write', 'todos:read'] },
  ]
  const app = await build(t, { CLIENTS: JSON.stringify(clients) }, { store: 'memory' })
  const res = await app.publicApp.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' })
  t.same(res.json().scopes_supported, ['extra:x', 'todos:read', 'todos:write'])
})
