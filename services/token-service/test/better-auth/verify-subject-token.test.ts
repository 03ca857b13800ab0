import { createServer } from 'node:net'
import t, { type Test } from 'tap'
import { SignJWT, base64url, exportJWK, generateKeyPair } from 'jose'
import { loadConfig } from '../../src/config.ts'
import { InvalidGrant, TemporarilyUnavailable } from '../../src/errors.ts'
import { mapRoles } from '../../src/better-auth/map-roles.ts'
import { createSubjectTokenVerifier } from '../../src/better-auth/verify-subject-token.ts'
import { testClock } from '../helpers/build.ts'
import { ed25519Key, signSubjectToken, startJwksFixture, type FixtureKey } from './jwks-fixture.ts'

const issuer = 'http://localhost:8080/api/auth'
const audience = 'token-service'

async function setup(t: Test, env: Record<string, string> = {}) {
  const key = await ed25519Key('ba-1')
  const jwks = await startJwksFixture([key.publicJwk])
  t.teardown(() => jwks.close())
  const clock = testClock()
  const config = loadConfig({ BETTER_AUTH_JWKS_URL: jwks.url, BETTER_AUTH_JWKS_COOLDOWN: '1000', ...env })
  const verifier = createSubjectTokenVerifier(config, { clock })
  const now = () => Math.floor(clock.now() / 1000)
  const claims = (extra: Record<string, unknown> = {}) => ({
    sub: 'user-1',
    iss: issuer,
    aud: audience,
    iat: now(),
    exp: now() + 900,
    email: 'u1@example.com',
    name: 'U One',
    emailVerified: false,
    image: null,
    ...extra,
  })
  return { key, jwks, clock, verifier, claims, now }
}

async function refused(t: Test, promise: Promise<unknown>, type: new (...a: never[]) => Error, label: string) {
  try {
    await promise
    t.fail(`${label}: accepted`)
  } catch (error) {
    t.type(error, type, label)
    if (error instanceof InvalidGrant) t.equal(error.description, 'the subject token is invalid', `${label}: generic description`)
  }
}

t.test('a good BetterAuth JWT gives only sub, email and the mapped roles (and its own exp and jti, for the replay limit)', async (t) => {
  const { key, verifier, claims, now } = await setup(t)
  const token = await signSubjectToken(key, claims({ role: 'admin, user', groups: ['root'], roles: ['superuser'] }))
  t.strictSame(await verifier.verify(token), { sub: 'user-1', email: 'u1@example.com', roles: ['admin', 'user'], exp: now() + 900, jti: undefined })
  t.equal((await verifier.verify(await signSubjectToken(key, claims({ jti: 'j-1' })))).jti, 'j-1', 'a jti is passed on as it is')
  const plain = await signSubjectToken(key, claims())
  t.same((await verifier.verify(plain)).roles, ['user'], 'no role → ["user"]')
})

t.test('the role claim maps explicitly and malformed roles are refused', async (t) => {
  t.same(mapRoles(undefined), ['user'])
  t.same(mapRoles(null), ['user'])
  t.same(mapRoles(''), ['user'])
  t.same(mapRoles(' , '), ['user'])
  t.same(mapRoles('admin'), ['admin'])
  t.same(mapRoles('admin,user,admin'), ['admin', 'user'])
  for (const bad of [['admin'], 42, { role: 'admin' }, 'ad min', 'admin;drop', 'x'.repeat(65), Array.from({ length: 17 }, (_, i) => `r${i}`).join(',')]) {
    t.equal(mapRoles(bad), undefined, JSON.stringify(bad))
  }
  const { key, verifier, claims } = await setup(t)
  await refused(t, verifier.verify(await signSubjectToken(key, claims({ role: ['admin'] }))), InvalidGrant, 'role array')
})

t.test('bad subject tokens are refused with invalid_grant and one generic description', async (t) => {
  const { key, verifier, claims, now } = await setup(t)
  const other = await ed25519Key('ba-1')
  const unknown = await ed25519Key('ba-unknown')
  const payload = base64url.encode(JSON.stringify(claims()))
  const cases: Array<[string, string | Promise<string>]> = [
    ['garbage', 'not-a-jwt'],
    ['empty signature segment', `${base64url.encode('{"alg":"EdDSA","kid":"ba-1"}')}.${payload}.`],
    ['alg none', `${base64url.encode('{"alg":"none"}')}.${payload}.c2ln`],
    ['alg NONE', `${base64url.encode('{"alg":"NONE","kid":"ba-1"}')}.${payload}.c2ln`],
    ['alg nOnE', `${base64url.encode('{"alg":"nOnE","kid":"ba-1"}')}.${payload}.c2ln`],
    ['HS256 with a guessed secret', new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', kid: 'ba-1' }).sign(new TextEncoder().encode('x'.repeat(32)))],
    ['JWE-shaped five parts', `${payload}.a.b.c.d`],
    ['whitespace', ` ${await signSubjectToken(key, claims())}`],
    ['signed by an unknown key', signSubjectToken(unknown, claims())],
    ['known kid, other key', signSubjectToken(other, claims())],
    ['expired beyond the tolerance', signSubjectToken(key, claims({ iat: now() - 200, exp: now() - 31 }))],
    ['iat older than SUBJECT_TOKEN_MAX_AGE', signSubjectToken(key, claims({ iat: now() - 931, exp: now() + 60 }))],
    ['iat in the future', signSubjectToken(key, claims({ iat: now() + 31 }))],
    ['nbf in the future', signSubjectToken(key, claims({ nbf: now() + 31 }))],
    ['no exp', signSubjectToken(key, claims({ exp: undefined }))],
    ['no iat', signSubjectToken(key, claims({ iat: undefined }))],
    ['no sub', signSubjectToken(key, claims({ sub: undefined }))],
    ['empty sub', signSubjectToken(key, claims({ sub: '' }))],
    ['no email', signSubjectToken(key, claims({ email: undefined }))],
    ['wrong iss (trailing slash)', signSubjectToken(key, claims({ iss: `${issuer}/` }))],
    ['wrong iss (case)', signSubjectToken(key, claims({ iss: issuer.toUpperCase() }))],
    ['wrong aud', signSubjectToken(key, claims({ aud: 'todo-api' }))],
    ['no aud', signSubjectToken(key, claims({ aud: undefined }))],
    ['extra audiences', signSubjectToken(key, claims({ aud: [audience, 'someone-else'] }))],
    ['jku header', signSubjectToken(key, claims(), { jku: 'http://evil.example/jwks' })],
    ['jwk header', signSubjectToken(key, claims(), { jwk: key.publicJwk })],
    ['x5u header', signSubjectToken(key, claims(), { x5u: 'http://evil.example/cert' })],
    ['crit header', signSubjectToken(key, claims(), { crit: ['ext'], ext: 1 }, { crit: { ext: true } })],
    ['non-string kid', signSubjectToken(key, claims(), { kid: 1 })],
    ['banned user', signSubjectToken(key, claims({ banned: true }))],
    ['too long', `${'a'.repeat(9000)}.b.c`],
  ]
  for (const [label, token] of cases) await refused(t, verifier.verify(await token), InvalidGrant, label)
})

t.test('exp, nbf and iat are checked with the configured tolerance', async (t) => {
  const { key, verifier, claims, now } = await setup(t, { CLOCK_TOLERANCE: '30' })
  t.ok(await verifier.verify(await signSubjectToken(key, claims({ iat: now() - 100, exp: now() - 29 }))), 'expired 29 s ago passes')
  t.ok(await verifier.verify(await signSubjectToken(key, claims({ iat: now() + 29 }))), 'iat 29 s ahead passes')
  t.ok(await verifier.verify(await signSubjectToken(key, claims({ aud: [audience] }))), 'aud as a one-member array passes')
})

t.test('an unknown kid refetches the key set at once: BetterAuth rotates without pre-publishing', async (t) => {
  const { key, jwks, verifier, claims, clock } = await setup(t)
  await verifier.verify(await signSubjectToken(key, claims()))
  const rotated = await ed25519Key('ba-2')
  jwks.keys = [key.publicJwk, rotated.publicJwk]
  const before = jwks.requests
  t.ok(await verifier.verify(await signSubjectToken(rotated, claims())), 'new kid accepted')
  t.equal(jwks.requests, before + 1, 'one refetch')
  const stranger = await ed25519Key('ba-3')
  const strangerToken = await signSubjectToken(stranger, claims())
  await Promise.all(Array.from({ length: 5 }, () => refused(t, verifier.verify(strangerToken), InvalidGrant, 'unknown kid')))
  t.equal(jwks.requests, before + 2, 'a found kid reset the backoff: the next unknown kid refetches once, concurrent ones share it')
  clock.advance(99)
  await refused(t, verifier.verify(strangerToken), InvalidGrant, 'unknown kid inside the backoff')
  t.equal(jwks.requests, before + 2, 'inside the backoff (100 ms after a fruitless refetch) no refetch')
  clock.advance(1000)
  await refused(t, verifier.verify(strangerToken), InvalidGrant, 'unknown kid after the backoff')
  t.equal(jwks.requests, before + 3, 'one refetch after it')
})

t.test('the last good key set keeps serving while BetterAuth is down, for the stale-if-error window', async (t) => {
  const { key, jwks, verifier, claims, clock } = await setup(t, { BETTER_AUTH_JWKS_STALE_IF_ERROR: '600' })
  await verifier.verify(await signSubjectToken(key, claims()))
  jwks.down = true
  clock.advance(300_000 + 500_000) // past the default 5 min freshness, inside stale-if-error
  t.ok(await verifier.verify(await signSubjectToken(key, claims())), 'stale keys still verify')
  clock.advance(200_000)
  await refused(t, verifier.verify(await signSubjectToken(key, claims())), TemporarilyUnavailable, 'past the window: unavailable')
  jwks.down = false
  clock.advance(1000)
  t.ok(await verifier.verify(await signSubjectToken(key, claims())), 'recovers when BetterAuth is back')
})

t.test('BetterAuth down with nothing cached is temporarily_unavailable, quickly', async (t) => {
  const closed = await new Promise<number>((resolve) => {
    const probe = createServer()
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number }
      probe.close(() => resolve(port))
    })
  })
  const key = await ed25519Key('ba-1')
  const clock = testClock()
  const verifier = createSubjectTokenVerifier(loadConfig({ BETTER_AUTH_JWKS_URL: `http://127.0.0.1:${closed}/api/auth/jwks` }), { clock })
  const token = await signSubjectToken(key, { sub: 'u', iss: issuer, aud: audience, iat: Math.floor(clock.now() / 1000), exp: Math.floor(clock.now() / 1000) + 60, email: 'e' })
  const started = performance.now()
  await refused(t, verifier.verify(token), TemporarilyUnavailable, 'no keys')
  t.ok(performance.now() - started < 1000, 'answers in under a second')
})

t.test('each allowed algorithm is verified, EdDSA and ES256 directly, the others through jose, with the same claim checks', async (t) => {
  const keyOf = async (alg: string, kid: string): Promise<FixtureKey> => {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
    return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), alg, kid } }
  }
  const ed = await ed25519Key('ed')
  const es256 = await keyOf('ES256', 'es256')
  const es384 = await keyOf('ES384', 'es384')
  const jwks = await startJwksFixture([ed.publicJwk, es256.publicJwk, es384.publicJwk])
  t.teardown(() => jwks.close())
  const clock = testClock()
  const verifierFor = (algorithms: string) => createSubjectTokenVerifier(loadConfig({ BETTER_AUTH_JWKS_URL: jwks.url, BETTER_AUTH_ALGORITHMS: algorithms, CLOCK_TOLERANCE: '30', SUBJECT_TOKEN_MAX_AGE: '900' }), { clock })
  const now = Math.floor(clock.now() / 1000)
  const good = { sub: 'user-1', iss: issuer, aud: audience, iat: now, exp: now + 600, email: 'u1@example.com' }
  const sign = (key: FixtureKey, alg: string, claims: Record<string, unknown>) => new SignJWT(claims).setProtectedHeader({ alg, kid: key.kid }).sign(key.privateKey)

  const all = verifierFor('EdDSA,ES256,ES384')
  for (const [key, alg] of [
    [ed, 'EdDSA'],
    [es256, 'ES256'],
    [es384, 'ES384'],
  ] as const) {
    t.equal((await all.verify(await sign(key, alg, good))).sub, 'user-1', `${alg}: a good token passes`)
    await refused(t, all.verify(await sign(key, alg, { ...good, iat: now - 1000, exp: now + 600 })), InvalidGrant, `${alg}: older than SUBJECT_TOKEN_MAX_AGE + tolerance`)
    await refused(t, all.verify(await sign(key, alg, { ...good, iat: now + 31 })), InvalidGrant, `${alg}: iat in the future`)
    await refused(t, all.verify(await sign(key, alg, { ...good, exp: now - 31 })), InvalidGrant, `${alg}: expired`)
    await refused(t, all.verify(await sign(key, alg, { ...good, aud: 'todo-api' })), InvalidGrant, `${alg}: another audience`)
    await refused(t, all.verify(await sign(key, alg, { ...good, iss: 'http://evil.example' })), InvalidGrant, `${alg}: another issuer`)
    const { iat: _iat, ...noIat } = good
    await refused(t, all.verify(await sign(key, alg, noIat)), InvalidGrant, `${alg}: no iat`)
  }
  await refused(t, verifierFor('ES384').verify(await sign(ed, 'EdDSA', good)), InvalidGrant, 'EdDSA when only ES384 is allowed')
  await refused(t, verifierFor('EdDSA').verify(await sign(es256, 'ES256', good)), InvalidGrant, 'ES256 when only EdDSA is allowed')
  await refused(t, all.verify(await new SignJWT(good).setProtectedHeader({ alg: 'ES256', kid: ed.kid }).sign(es256.privateKey)), InvalidGrant, "ES256 named with the Ed25519 key's kid")
})
