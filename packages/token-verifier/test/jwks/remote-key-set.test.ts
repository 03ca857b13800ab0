import t, { type Test } from 'tap'
import { SignJWT, jwtVerify, exportJWK, generateKeyPair } from 'jose'
import { createRemoteKeySet, type RemoteKeySetOptions } from '../../src/jwks/remote-key-set.ts'
import { TokenVerifierError } from '../../src/errors.ts'
import { generateSigningKey, startJwksServer, unusedUrl } from '../helpers/jwks-server.ts'

const start = 1_700_000_000_000

async function setup(t: Test, keys: Awaited<ReturnType<typeof generateSigningKey>>[], options: Partial<RemoteKeySetOptions> = {}) {
  const server = await startJwksServer(keys.map((k) => k.publicJwk))
  t.teardown(() => server.close())
  const clock = { now: start }
  const keySet = createRemoteKeySet({ url: server.url, algorithms: ['ES256'], now: () => clock.now, ...options })
  return { server, clock, keySet }
}

async function rejectsWithCode(t: Test, promise: Promise<unknown>, code: string, message?: string) {
  try {
    await promise
    t.fail(`expected ${code}, got a key`)
  } catch (error) {
    t.ok(error instanceof TokenVerifierError, message ?? `rejects with a TokenVerifierError (${code})`)
    t.equal((error as TokenVerifierError).code, code, message ?? `code is ${code}`)
  }
}

t.test('the first lookup fetches the set once and later lookups use the cache', async (t) => {
  const key = await generateSigningKey()
  const { server, keySet } = await setup(t, [key])
  t.same(keySet.status, { loaded: false, keyCount: 0, fetchedAt: null, lastError: null })
  const first = await keySet.getKey({ alg: 'ES256', kid: key.kid })
  const second = await keySet.getKey({ alg: 'ES256', kid: key.kid })
  t.equal(first, second, 'the same imported CryptoKey is returned (memoised, not imported per call)')
  t.equal(first.type, 'public')
  t.equal(server.requests, 1)
  t.same(keySet.status, { loaded: true, keyCount: 1, fetchedAt: start, lastError: null })
})

t.test('a key from the set verifies a token through jose as a key resolver', async (t) => {
  const key = await generateSigningKey()
  const { keySet } = await setup(t, [key])
  const token = await new SignJWT({ sub: 'u1' })
    .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'at+jwt' })
    .sign(key.privateKey)
  const { payload } = await jwtVerify(token, keySet.getKey, { algorithms: ['ES256'] })
  t.equal(payload.sub, 'u1')
})

t.test('Cache-Control max-age sets the freshness and a stale set is revalidated with If-None-Match', async (t) => {
  const key = await generateSigningKey()
  const { server, clock, keySet } = await setup(t, [key])
  server.cacheControl = 'public, max-age=60'
  server.etag = '"v1"'
  const first = await keySet.getKey({ alg: 'ES256', kid: key.kid })
  clock.now = start + 59_999
  await keySet.getKey({ alg: 'ES256', kid: key.kid })
  t.equal(server.requests, 1, 'still fresh just before max-age')
  clock.now = start + 60_000
  const again = await keySet.getKey({ alg: 'ES256', kid: key.kid })
  t.equal(server.requests, 2, 'refetched once max-age has passed')
  t.same(server.ifNoneMatch, [undefined, '"v1"'], 'the second fetch carries the ETag')
  t.equal(again, first, 'a 304 keeps the same keys')
  t.equal(keySet.status.fetchedAt, start + 60_000, 'a 304 renews freshness')
  clock.now = start + 119_999
  await keySet.getKey({ alg: 'ES256', kid: key.kid })
  t.equal(server.requests, 2, 'fresh again for max-age after the 304')
})

t.test('a server max-age is capped by maxMaxAgeMs and a missing one falls back to defaultMaxAgeMs', async (t) => {
  const key = await generateSigningKey()
  const capped = await setup(t, [key], { maxMaxAgeMs: 10_000 })
  capped.server.cacheControl = 'max-age=31536000'
  await capped.keySet.getKey({ alg: 'ES256', kid: key.kid })
  capped.clock.now = start + 10_000
  await capped.keySet.getKey({ alg: 'ES256', kid: key.kid })
  t.equal(capped.server.requests, 2, 'a year of max-age is capped at 10 s')

  const fallback = await setup(t, [key], { defaultMaxAgeMs: 20_000 })
  await fallback.keySet.getKey({ alg: 'ES256', kid: key.kid })
  fallback.clock.now = start + 19_999
  await fallback.keySet.getKey({ alg: 'ES256', kid: key.kid })
  t.equal(fallback.server.requests, 1)
  fallback.clock.now = start + 20_000
  await fallback.keySet.getKey({ alg: 'ES256', kid: key.kid })
  t.equal(fallback.server.requests, 2, 'no Cache-Control: the default freshness applies')
})

t.test('no-cache means revalidate, but never more than once per cooldown', async (t) => {
  const key = await generateSigningKey()
  const { server, clock, keySet } = await setup(t, [key], { cooldownMs: 5000 })
  server.cacheControl = 'no-cache'
  await keySet.getKey({ alg: 'ES256', kid: key.kid })
  clock.now = start + 1000
  await keySet.getKey({ alg: 'ES256', kid: key.kid })
  t.equal(server.requests, 1)
  clock.now = start + 5000
  await keySet.getKey({ alg: 'ES256', kid: key.kid })
  t.equal(server.requests, 2)
})

t.test('an unknown kid triggers an immediate refetch that finds a rotated-in key', async (t) => {
  const oldKey = await generateSigningKey()
  const newKey = await generateSigningKey()
  const { server, keySet } = await setup(t, [oldKey])
  server.cacheControl = 'max-age=3600'
  await keySet.getKey({ alg: 'ES256', kid: oldKey.kid })
  server.body = { keys: [oldKey.publicJwk, newKey.publicJwk] }
  const found = await keySet.getKey({ alg: 'ES256', kid: newKey.kid })
  t.equal(found.type, 'public')
  t.equal(server.requests, 2)
  t.equal(keySet.status.keyCount, 2)
})

t.test('concurrent misses share one fetch and misses within the cooldown fetch nothing', async (t) => {
  const key = await generateSigningKey()
  const { server, clock, keySet } = await setup(t, [key], { cooldownMs: 5000 })
  server.cacheControl = 'max-age=3600'
  await keySet.getKey({ alg: 'ES256', kid: key.kid })
  t.equal(server.requests, 1)
  server.delayMs = 50
  const misses = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => keySet.getKey({ alg: 'ES256', kid: `nope-${i}` })))
  t.equal(server.requests, 2, '20 concurrent misses caused exactly one fetch')
  t.ok(misses.every((m) => m.status === 'rejected' && (m.reason as TokenVerifierError).code === 'ERR_JWKS_NO_MATCHING_KEY'))
  clock.now = start + 4999
  await rejectsWithCode(t, keySet.getKey({ alg: 'ES256', kid: 'nope-again' }), 'ERR_JWKS_NO_MATCHING_KEY')
  t.equal(server.requests, 2, 'a miss inside the cooldown does not fetch')
  clock.now = start + 5000
  await rejectsWithCode(t, keySet.getKey({ alg: 'ES256', kid: 'nope-later' }), 'ERR_JWKS_NO_MATCHING_KEY')
  t.equal(server.requests, 3, 'after the cooldown a miss fetches again')
  t.equal(keySet.status.loaded, true, 'the known key is still cached')
  t.ok(await keySet.getKey({ alg: 'ES256', kid: key.kid }))
})

t.test('concurrent first lookups share the initial fetch', async (t) => {
  const key = await generateSigningKey()
  const { server, keySet } = await setup(t, [key])
  server.delayMs = 50
  const keys = await Promise.all(Array.from({ length: 10 }, () => keySet.getKey({ alg: 'ES256', kid: key.kid })))
  t.equal(server.requests, 1)
  t.ok(keys.every((k: unknown) => k === keys[0]))
})

t.test('with nothing cached and the server down, lookups fail with ERR_JWKS_UNAVAILABLE and recover once it is back', async (t) => {
  const key = await generateSigningKey()
  const { server, clock, keySet } = await setup(t, [key], { cooldownMs: 5000 })
  server.down = true
  await rejectsWithCode(t, keySet.getKey({ alg: 'ES256', kid: key.kid }), 'ERR_JWKS_UNAVAILABLE')
  t.equal(server.requests, 1)
  t.equal(keySet.status.loaded, false)
  t.type(keySet.status.lastError, 'string')
  clock.now = start + 1000
  await rejectsWithCode(t, keySet.getKey({ alg: 'ES256', kid: key.kid }), 'ERR_JWKS_UNAVAILABLE', 'still unavailable within the retry gap')
  t.equal(server.requests, 1, 'no retry within the cooldown after a failure')
  server.down = false
  clock.now = start + 5000
  t.ok(await keySet.getKey({ alg: 'ES256', kid: key.kid }), 'recovers after the cooldown')
  t.equal(server.requests, 2)
  t.equal(keySet.status.lastError, null)
})

t.test('a refused connection with nothing cached is ERR_JWKS_UNAVAILABLE, and refresh() rejects the same way', async (t) => {
  const keySet = createRemoteKeySet({ url: await unusedUrl(), algorithms: ['ES256'] })
  await rejectsWithCode(t, keySet.getKey({ alg: 'ES256', kid: 'a' }), 'ERR_JWKS_UNAVAILABLE')
  await rejectsWithCode(t, keySet.refresh(), 'ERR_JWKS_UNAVAILABLE')
  t.match(keySet.status.lastError, /ECONNREFUSED|fetch failed/)
})

t.test('a failed refetch keeps serving the last good set within staleIfErrorMs, then fails closed', async (t) => {
  const key = await generateSigningKey()
  const { server, clock, keySet } = await setup(t, [key], { staleIfErrorMs: 60_000, cooldownMs: 5000 })
  server.cacheControl = 'max-age=10'
  const good = await keySet.getKey({ alg: 'ES256', kid: key.kid })
  server.failStatus = 500
  clock.now = start + 10_000
  t.equal(await keySet.getKey({ alg: 'ES256', kid: key.kid }), good, 'stale key served while the refetch fails')
  t.equal(server.requests, 2)
  t.match(keySet.status.lastError, /HTTP 500/)
  t.equal(keySet.status.loaded, true)
  await rejectsWithCode(t, keySet.getKey({ alg: 'ES256', kid: 'unknown' }), 'ERR_JWKS_NO_MATCHING_KEY', 'an unknown kid is still just invalid')
  clock.now = start + 10_000 + 59_999
  t.equal(await keySet.getKey({ alg: 'ES256', kid: key.kid }), good, 'still within the stale-if-error window')
  clock.now = start + 10_000 + 60_000
  await rejectsWithCode(t, keySet.getKey({ alg: 'ES256', kid: key.kid }), 'ERR_JWKS_UNAVAILABLE', 'past the window: never accept')
  t.equal(keySet.status.loaded, false)
  server.failStatus = undefined
  clock.now += 5000
  t.ok(await keySet.getKey({ alg: 'ES256', kid: key.kid }), 'recovers once the server is back')
})

t.test('a slow server is cut off by timeoutMs', async (t) => {
  const key = await generateSigningKey()
  const { server, keySet } = await setup(t, [key], { timeoutMs: 100 })
  server.delayMs = 2000
  const began = performance.now()
  await rejectsWithCode(t, keySet.getKey({ alg: 'ES256', kid: key.kid }), 'ERR_JWKS_UNAVAILABLE')
  const took = performance.now() - began
  t.ok(took < 1500, `gave up after ${Math.round(took)} ms`)
  t.match(keySet.status.lastError, /timed out after 100 ms/)
})

t.test('a redirect is refused: the JWKS URL is fixed', async (t) => {
  const key = await generateSigningKey()
  const other = await startJwksServer([key.publicJwk])
  t.teardown(() => other.close())
  const { server, keySet } = await setup(t, [key])
  server.redirectTo = other.url
  await rejectsWithCode(t, keySet.getKey({ alg: 'ES256', kid: key.kid }), 'ERR_JWKS_UNAVAILABLE')
  t.equal(other.requests, 0)
})

t.test('documents that are not a JWKS are fetch failures and keep the last good set', async (t) => {
  const key = await generateSigningKey()
  for (const body of ['not json', '[]', '{"keys":{}}', 'null', JSON.stringify({ nokeys: [] })]) {
    const { server, keySet } = await setup(t, [key])
    server.body = body
    await rejectsWithCode(t, keySet.getKey({ alg: 'ES256', kid: key.kid }), 'ERR_JWKS_UNAVAILABLE', `body ${body} is unavailable`)
  }
  const { server, clock, keySet } = await setup(t, [key])
  server.cacheControl = 'max-age=1'
  const good = await keySet.getKey({ alg: 'ES256', kid: key.kid })
  server.body = 'garbage'
  clock.now = start + 5000 // stale, and past the retry gap
  t.equal(await keySet.getKey({ alg: 'ES256', kid: key.kid }), good)
  t.match(keySet.status.lastError, /not JSON/)
})

t.test('keys whose alg is not allowed, whose kty does not fit the alg, or that are not for signing are ignored', async (t) => {
  const good = await generateSigningKey('ES256', 'good')
  const rsa = await generateSigningKey('RS256', 'rsa')
  const ed = await generateSigningKey('EdDSA', 'ed')
  const { keySet } = await setup(t, [good, rsa, ed])
  const server = (await setup(t, [])).server
  server.body = {
    keys: [
      good.publicJwk,
      rsa.publicJwk,
      ed.publicJwk,
      { ...good.publicJwk, kid: 'ec-as-rs256', alg: 'RS256' },
      { ...good.publicJwk, kid: 'ec-as-es384', alg: 'ES384' },
      { ...good.publicJwk, kid: 'enc', use: 'enc' },
      { ...good.publicJwk, kid: 'ops', key_ops: ['encrypt'] },
      { kty: 'oct', k: 'c2VjcmV0', kid: 'hmac', alg: 'HS256' },
      { ...good.publicJwk, kid: 42 },
      'not an object',
      null,
    ],
  }
  const filtered = createRemoteKeySet({ url: server.url, algorithms: ['ES256', 'ES384', 'RS256'] })
  t.ok(await filtered.getKey({ alg: 'ES256', kid: 'good' }))
  t.ok(await filtered.getKey({ alg: 'RS256', kid: 'rsa' }))
  t.equal(filtered.status.keyCount, 2, 'only the two well-formed keys of allowed algs were kept')
  for (const header of [
    { alg: 'EdDSA', kid: 'ed' },
    { alg: 'RS256', kid: 'ec-as-rs256' },
    { alg: 'ES384', kid: 'ec-as-es384' },
    { alg: 'ES256', kid: 'enc' },
    { alg: 'ES256', kid: 'ops' },
    { alg: 'HS256', kid: 'hmac' },
  ]) {
    await rejectsWithCode(t, filtered.getKey(header), 'ERR_JWKS_NO_MATCHING_KEY', `${header.kid} with ${header.alg} is refused`)
  }
  t.ok(await keySet.getKey({ alg: 'ES256', kid: 'good' }), 'an ES256-only set ignores the RSA and Ed25519 keys')
  t.equal(keySet.status.keyCount, 1)
})

t.test('a key is only ever used with its own alg', async (t) => {
  const key = await generateSigningKey('ES256', 'only-es256')
  const { keySet } = await setup(t, [key], { algorithms: ['ES256', 'ES384', 'RS256'] })
  t.ok(await keySet.getKey({ alg: 'ES256', kid: 'only-es256' }))
  await rejectsWithCode(t, keySet.getKey({ alg: 'ES384', kid: 'only-es256' }), 'ERR_JWKS_NO_MATCHING_KEY')
  await rejectsWithCode(t, keySet.getKey({ alg: 'RS256', kid: 'only-es256' }), 'ERR_JWKS_NO_MATCHING_KEY')
})

t.test('a JWK without alg is used only with the single allowed alg its key type fits', async (t) => {
  const key = await generateSigningKey('ES256', 'no-alg')
  const { alg: _alg, ...withoutAlg } = key.publicJwk
  const { server, keySet } = await setup(t, [])
  server.body = { keys: [withoutAlg] }
  t.ok(await keySet.getKey({ alg: 'ES256', kid: 'no-alg' }))
  const rsa = await generateSigningKey('RS256', 'rsa-no-alg')
  const { alg: _r, ...rsaWithoutAlg } = rsa.publicJwk
  server.body = { keys: [rsaWithoutAlg] }
  const ambiguous = createRemoteKeySet({ url: server.url, algorithms: ['RS256', 'PS256'] })
  await rejectsWithCode(t, ambiguous.getKey({ alg: 'RS256', kid: 'rsa-no-alg' }), 'ERR_JWKS_NO_MATCHING_KEY', 'RSA fits two allowed algs: ignored')
})

t.test('private members published by mistake are never imported', async (t) => {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true })
  const privateJwk = { ...(await exportJWK(privateKey)), kid: 'leaky', alg: 'ES256', use: 'sig' }
  t.ok(privateJwk.d, 'the published JWK does carry d')
  const { server, keySet } = await setup(t, [])
  server.body = { keys: [privateJwk] }
  const key = await keySet.getKey({ alg: 'ES256', kid: 'leaky' })
  t.equal(key.type, 'public')
  t.same(key.usages, ['verify'])
})

t.test('disallowed header algs and non-string kids are refused without any fetch', async (t) => {
  const key = await generateSigningKey()
  const { server, clock, keySet } = await setup(t, [key])
  await keySet.getKey({ alg: 'ES256', kid: key.kid })
  clock.now = start + 60_000 // past any cooldown: a fetch would be allowed if the lookup asked for one
  const headers: unknown[] = [
    { alg: 'none', kid: key.kid },
    { alg: 'None', kid: key.kid },
    { alg: 'NONE', kid: key.kid },
    { alg: 'nOnE', kid: key.kid },
    { alg: 'es256', kid: key.kid },
    { alg: 'HS256', kid: key.kid },
    { kid: key.kid },
    { alg: 42, kid: key.kid },
    { alg: 'ES256', kid: 1 },
    { alg: 'ES256', kid: { toString: () => key.kid } },
    { alg: 'ES256', kid: [key.kid] },
    { alg: 'ES256', kid: null },
    null,
  ]
  for (const header of headers) {
    await rejectsWithCode(t, keySet.getKey(header as { alg?: string; kid?: string }), 'ERR_JWKS_NO_MATCHING_KEY', `${JSON.stringify(header)} is refused`)
  }
  t.equal(server.requests, 1)
})

t.test('a kid named like an Object.prototype member is just an unknown kid', async (t) => {
  const key = await generateSigningKey()
  const { keySet } = await setup(t, [key])
  for (const kid of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
    await rejectsWithCode(t, keySet.getKey({ alg: 'ES256', kid }), 'ERR_JWKS_NO_MATCHING_KEY')
  }
})

t.test('without a kid a key is chosen only when exactly one fits the alg', async (t) => {
  const a = await generateSigningKey('ES256', 'a')
  const single = await setup(t, [a])
  t.ok(await single.keySet.getKey({ alg: 'ES256' }))
  const b = await generateSigningKey('ES256', 'b')
  const double = await setup(t, [a, b])
  await rejectsWithCode(t, double.keySet.getKey({ alg: 'ES256' }), 'ERR_JWKS_NO_MATCHING_KEY')
})

t.test('refresh() fetches at once and keys already imported are reused across documents', async (t) => {
  const a = await generateSigningKey()
  const b = await generateSigningKey()
  const { server, keySet } = await setup(t, [a])
  server.cacheControl = 'max-age=3600'
  await keySet.refresh()
  t.equal(server.requests, 1)
  const first = await keySet.getKey({ alg: 'ES256', kid: a.kid })
  server.body = { keys: [a.publicJwk, b.publicJwk] }
  await keySet.refresh()
  t.equal(server.requests, 2)
  t.equal(await keySet.getKey({ alg: 'ES256', kid: a.kid }), first, 'the unchanged key is not re-imported')
  t.ok(await keySet.getKey({ alg: 'ES256', kid: b.kid }))
  t.equal(server.requests, 2)
  server.body = { keys: [b.publicJwk] }
  await keySet.refresh()
  await rejectsWithCode(t, keySet.getKey({ alg: 'ES256', kid: a.kid }), 'ERR_JWKS_NO_MATCHING_KEY', 'a key removed from the set stops verifying')
})

t.test('bad options are rejected when the key set is created', async (t) => {
  for (const algorithms of [[], ['none'], ['HS256'], ['es256']]) {
    t.throws(() => createRemoteKeySet({ url: 'http://127.0.0.1/jwks', algorithms }), TypeError, `algorithms ${JSON.stringify(algorithms)}`)
  }
  t.throws(() => createRemoteKeySet({ url: 'file:///etc/passwd', algorithms: ['ES256'] }), TypeError)
  t.throws(() => createRemoteKeySet({ url: 'not a url', algorithms: ['ES256'] }))
})


t.test('peekKey answers from memory only: the key while fresh, null for an unknown key, undefined once stale', async (t) => {
  const key = await generateSigningKey()
  const { server, clock, keySet } = await setup(t, [key])
  server.cacheControl = 'max-age=60'
  t.equal(keySet.peekKey({ alg: 'ES256', kid: key.kid }), undefined, 'nothing fetched yet')
  t.equal(server.requests, 0, 'and peekKey did not fetch')
  const fetched = await keySet.getKey({ alg: 'ES256', kid: key.kid })
  t.equal(keySet.peekKey({ alg: 'ES256', kid: key.kid }), fetched, 'the same object getKey returned')
  t.equal(keySet.peekKey({ alg: 'ES256', kid: 'other' }), null)
  t.equal(keySet.peekKey({ alg: 'ES384', kid: key.kid }), null)
  t.equal(keySet.peekKey({ alg: 'none', kid: key.kid }), null)
  t.equal(keySet.peekKey({ alg: 'ES256', kid: 7 } as unknown as { kid: string }), null)
  clock.now = start + 60_000
  t.equal(keySet.peekKey({ alg: 'ES256', kid: key.kid }), undefined, 'stale: only getKey can tell')
  t.equal(server.requests, 1)
})

t.test('version changes when a key is added, removed or replaced, and not for an identical document or a 304', async (t) => {
  const a = await generateSigningKey('ES256', 'a')
  const b = await generateSigningKey('ES256', 'b')
  const { server, keySet } = await setup(t, [a])
  t.equal(keySet.version, 0)
  await keySet.refresh()
  t.equal(keySet.version, 1, 'first set')
  await keySet.refresh()
  t.equal(keySet.version, 1, 'identical document')
  server.etag = '"e"'
  await keySet.refresh()
  await keySet.refresh()
  t.equal(server.ifNoneMatch.at(-1), '"e"')
  t.equal(keySet.version, 1, '304')
  server.etag = undefined
  server.body = { keys: [a.publicJwk, b.publicJwk] }
  await keySet.refresh()
  t.equal(keySet.version, 2, 'key added')
  server.body = { keys: [b.publicJwk] }
  await keySet.refresh()
  t.equal(keySet.version, 3, 'key removed')
  const impostor = await generateSigningKey('ES256', 'b')
  server.body = { keys: [impostor.publicJwk] }
  await keySet.refresh()
  t.equal(keySet.version, 4, 'key replaced under the same kid')
})
