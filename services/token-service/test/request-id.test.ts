// X-Request-Id on token-service (packages/observability): kept when valid, returned on both
// listeners, and passed on to BetterAuth's JWKS when a request makes token-service fetch it.
import t from 'tap'
import { ed25519Key, signSubjectToken, startJwksFixture } from './better-auth/jwks-fixture.ts'
import { exchange } from './grants/helpers.ts'
import { build } from './helpers/build.ts'

t.test("a request that needs BetterAuth's JWKS passes its id on to that fetch", async (t) => {
  const known = await ed25519Key('known')
  const jwks = await startJwksFixture([known.publicJwk])
  t.teardown(() => jwks.close())
  const fetched: (string | null)[] = []
  let warmedUp: () => void = () => {}
  const warmUp = new Promise<void>((resolve) => {
    warmedUp = resolve
  })
  const spy: typeof fetch = async (input, init) => {
    fetched.push(new Headers(init?.headers).get('x-request-id'))
    const response = await fetch(input, init)
    warmedUp()
    return response
  }
  const app = await build(t, { BETTER_AUTH_JWKS_URL: jwks.url, BETTER_AUTH_JWKS_COOLDOWN: '0' }, { store: 'memory', deps: { fetch: spy } })
  await warmUp
  t.equal(fetched[0], null, 'the start-up warm-up belongs to no request')

  // A kid the cached set lacks makes the verifier refetch, inside this request.
  const stranger = await ed25519Key('rotated-in')
  const token = await signSubjectToken(stranger, { sub: 'u1' })
  const res = await exchange(app.publicApp, token, {}, { 'x-request-id': 'exchange-1' })
  t.equal(res.statusCode, 400, 'the unknown key is refused')
  t.equal(res.headers['x-request-id'], 'exchange-1', 'and the answer names the request')
  t.ok(fetched.includes('exchange-1'), 'the JWKS fetch carried the id to identity')
})

t.test('both listeners return the id, a generated one when the caller sent none or an invalid one', async (t) => {
  const app = await build(t, {}, { store: 'memory' })
  const kept = await app.publicApp.inject({ url: '/healthz', headers: { 'x-request-id': 'probe-1' } })
  t.equal(kept.headers['x-request-id'], 'probe-1')
  const replaced = await app.publicApp.inject({ url: '/.well-known/jwks.json', headers: { 'x-request-id': 'bad id\u0001' } })
  t.match(replaced.headers['x-request-id'], /^[0-9a-f-]{36}$/, 'an invalid one is replaced by a UUID')
  const admin = await app.adminApp!.inject({ url: '/admin/keys', headers: { 'x-request-id': 'admin-1' } })
  t.equal(admin.statusCode, 401, 'no admin token')
  t.equal(admin.headers['x-request-id'], 'admin-1', 'a refused admin call names its request too')
})
