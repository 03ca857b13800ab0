import t, { type Test } from 'tap'
import { importJWK, type CryptoKey } from 'jose'
import { createAccessTokenVerifier, type AccessTokenVerifier, type KeyResolver } from '../../src/jwt/verify-access-token.ts'
import { createRemoteKeySet, type RemoteKeySet, type RemoteKeySetOptions } from '../../src/jwks/remote-key-set.ts'
import { TokenVerifierError } from '../../src/errors.ts'
import { generateSigningKey, startJwksServer, type SigningKey } from '../helpers/jwks-server.ts'
import { audience, issuer, mintAccessToken } from '../helpers/tokens.ts'

const startSec = 1_800_000_000
const keyA = await generateSigningKey('ES256', 'a')
const keyB = await generateSigningKey('ES256', 'b')

/** A JWKS server, a remote key set and a cached verifier, all on one injected clock. */
async function setup(t: Test, options: { keys?: SigningKey[]; maxEntries?: number; keySetOptions?: Partial<RemoteKeySetOptions> } = {}) {
  const server = await startJwksServer((options.keys ?? [keyA, keyB]).map((k) => k.publicJwk))
  t.teardown(() => server.close())
  server.cacheControl = 'max-age=60'
  const clock = { ms: startSec * 1000 }
  const now = () => clock.ms
  const keySet = createRemoteKeySet({ url: server.url, algorithms: ['ES256'], now, cooldownMs: 1000, ...options.keySetOptions })
  const counted = countingKeySet(keySet)
  const verifier = createAccessTokenVerifier({ issuer, audience, keySet: counted, now, cache: { maxEntries: options.maxEntries ?? 100 } })
  const uncached = createAccessTokenVerifier({ issuer, audience, keySet, now, cache: false })
  return { server, clock, keySet, counted, verifier, uncached }
}

/** The remote key set with a count of getKey calls (one per full verification, plus hits that must revalidate). */
function countingKeySet(keySet: RemoteKeySet): KeyResolver & { getKeyCalls: number } {
  const counted = {
    getKeyCalls: 0,
    getKey(header: { alg?: string; kid?: string }) {
      counted.getKeyCalls += 1
      return keySet.getKey(header)
    },
    peekKey: (header: { alg?: string; kid?: string }) => keySet.peekKey(header),
    get version() {
      return keySet.version
    },
  }
  return counted
}

async function outcome(verifier: AccessTokenVerifier, token: string): Promise<string> {
  try {
    return `accepted ${(await verifier.verify(token)).sub}`
  } catch (error) {
    if (error instanceof TokenVerifierError) return error.code
    throw error
  }
}

t.test('a cached token is served until exp plus the tolerance and refused as expired from then on, exactly like the uncached path', async (t) => {
  const { clock, verifier, uncached } = await setup(t)
  const token = await mintAccessToken(keyA, { nowSec: startSec, claims: { exp: startSec + 60 } })
  t.equal(await outcome(verifier, token), 'accepted user-1')
  t.equal(verifier.cache!.verifications, 1)
  // jose's rule: refused when exp <= now - tolerance (30 s), in whole seconds.
  for (const [offsetMs, expected] of [
    [60_000, 'accepted user-1'],
    [89_000, 'accepted user-1'],
    [89_999, 'accepted user-1'],
    [90_000, 'ERR_TOKEN_EXPIRED'],
    [3_600_000, 'ERR_TOKEN_EXPIRED'],
  ] as const) {
    clock.ms = startSec * 1000 + offsetMs
    t.equal(await outcome(uncached, token), expected, `uncached at +${offsetMs} ms: ${expected}`)
    t.equal(await outcome(verifier, token), expected, `cached at +${offsetMs} ms: ${expected}`)
  }
  t.equal(verifier.cache!.verifications, 3, 'served from the cache until expiry; each refusal verified in full')
  t.equal(verifier.cache!.size, 0, 'the expired entry is gone')
})

t.test('concurrent requests carrying the same new token verify it once', async (t) => {
  const { counted, verifier } = await setup(t)
  const token = await mintAccessToken(keyA, { nowSec: startSec })
  const results = await Promise.all(Array.from({ length: 50 }, () => verifier.verify(token)))
  t.equal(verifier.cache!.verifications, 1, 'one full verification')
  t.equal(counted.getKeyCalls, 1, 'one key lookup')
  t.ok(results.every((r) => r === results[0]), 'all 50 callers got the same result')
  await verifier.verify(token)
  t.equal(verifier.cache!.hits, 1)
  t.equal(counted.getKeyCalls, 1, 'a hit on a fresh key set needs no getKey call')
})

t.test('concurrent requests carrying the same bad token verify it once, all are refused, and nothing is cached', async (t) => {
  const { verifier } = await setup(t)
  const forged = await mintAccessToken(await generateSigningKey('ES256', 'a'), { nowSec: startSec })
  const outcomes = await Promise.all(Array.from({ length: 20 }, () => outcome(verifier, forged)))
  t.ok(outcomes.every((o) => o === 'ERR_TOKEN_INVALID'), 'every caller refused')
  t.equal(verifier.cache!.verifications, 1)
  t.equal(verifier.cache!.size, 0)
  t.equal(await outcome(verifier, forged), 'ERR_TOKEN_INVALID')
  t.equal(verifier.cache!.verifications, 2, 'a refusal is not remembered: the next call verifies again')
})

t.test('the number of entries never exceeds maxEntries and the least recently used goes first', async (t) => {
  const { verifier } = await setup(t, { maxEntries: 3 })
  const tokens = await Promise.all(Array.from({ length: 5 }, (_, i) => mintAccessToken(keyA, { nowSec: startSec, claims: { sub: `user-${i}` } })))
  for (const token of tokens.slice(0, 3)) await verifier.verify(token)
  t.equal(verifier.cache!.size, 3)
  await verifier.verify(tokens[0]!) // token 0 is now the most recently used
  t.equal(verifier.cache!.hits, 1)
  await verifier.verify(tokens[3]!)
  t.equal(verifier.cache!.size, 3, 'bounded')
  t.equal(verifier.cache!.evictions, 1)
  const before = verifier.cache!.verifications
  await verifier.verify(tokens[0]!)
  t.equal(verifier.cache!.verifications, before, 'token 0 survived: it was used recently')
  await verifier.verify(tokens[1]!)
  t.equal(verifier.cache!.verifications, before + 1, 'token 1, the least recently used, had been evicted')
  for (const token of tokens) await verifier.verify(token)
  t.ok(verifier.cache!.size <= 3, 'still bounded after more traffic')
})

t.test('when a key leaves the JWKS its entries are evicted and its tokens refused', async (t) => {
  const { server, keySet, verifier } = await setup(t)
  const signedByA = await Promise.all([1, 2, 3].map((i) => mintAccessToken(keyA, { nowSec: startSec, claims: { sub: `a-${i}` } })))
  const signedByB = await mintAccessToken(keyB, { nowSec: startSec, claims: { sub: 'b-1' } })
  for (const token of [...signedByA, signedByB]) await verifier.verify(token)
  t.equal(verifier.cache!.size, 4)
  server.body = { keys: [keyB.publicJwk] }
  await keySet.refresh()
  t.equal(await outcome(verifier, signedByB), 'accepted b-1', 'a token of a key that stayed is still served')
  t.equal(verifier.cache!.size, 1, "key a's three entries were evicted as soon as the changed set was seen")
  t.equal(verifier.cache!.evictions, 3)
  for (const token of signedByA) t.equal(await outcome(verifier, token), 'ERR_JWKS_NO_MATCHING_KEY')
})

t.test('a cached token whose key was revoked is refused once the key set is refetched, as without the cache', async (t) => {
  const { server, clock, verifier, uncached } = await setup(t)
  const token = await mintAccessToken(keyA, { nowSec: startSec })
  await verifier.verify(token)
  server.body = { keys: [keyB.publicJwk] } // emergency revocation of a: gone from the JWKS
  t.equal(await outcome(verifier, token), 'accepted user-1', 'within max-age the old set is what both paths know')
  t.equal(await outcome(uncached, token), 'accepted user-1')
  clock.ms += 60_000 // the set is stale now: the next use refetches it
  t.equal(await outcome(verifier, token), 'ERR_JWKS_NO_MATCHING_KEY', 'refused by the cached verifier')
  t.equal(await outcome(uncached, token), 'ERR_JWKS_NO_MATCHING_KEY', 'and by the uncached one')
  t.equal(verifier.cache!.size, 0)
})

t.test('a key replaced under the same kid stops serving the tokens of the old one', async (t) => {
  const { server, keySet, verifier } = await setup(t)
  const token = await mintAccessToken(keyA, { nowSec: startSec })
  await verifier.verify(token)
  const impostor = await generateSigningKey('ES256', 'a')
  server.body = { keys: [impostor.publicJwk, keyB.publicJwk] }
  await keySet.refresh()
  t.equal(await outcome(verifier, token), 'ERR_TOKEN_INVALID', 'the signature no longer verifies with the key now named a')
})

t.test('a stale key set is revalidated on a hit and the entry keeps serving when the key is unchanged', async (t) => {
  const { server, clock, counted, verifier } = await setup(t)
  const token = await mintAccessToken(keyA, { nowSec: startSec })
  await verifier.verify(token)
  t.equal(server.requests, 1)
  clock.ms += 61_000
  t.equal(await outcome(verifier, token), 'accepted user-1')
  t.equal(server.requests, 2, 'the hit refetched the stale set')
  t.equal(verifier.cache!.verifications, 1, 'no re-verification: the key is the same object')
  t.equal(counted.getKeyCalls, 2)
})

t.test('with the key set unreachable a cached token serves only within stale-if-error, then the answer is unavailable', async (t) => {
  const { server, clock, verifier, uncached } = await setup(t, { keySetOptions: { staleIfErrorMs: 120_000 } })
  const token = await mintAccessToken(keyA, { nowSec: startSec, claims: { exp: startSec + 3600 } })
  await verifier.verify(token)
  server.down = true
  clock.ms += 100_000 // stale, inside stale-if-error (60 s fresh + 120 s)
  t.equal(await outcome(verifier, token), 'accepted user-1')
  t.equal(await outcome(uncached, token), 'accepted user-1')
  clock.ms = startSec * 1000 + 180_000
  t.equal(await outcome(verifier, token), 'ERR_JWKS_UNAVAILABLE', 'never served past the window')
  t.equal(await outcome(uncached, token), 'ERR_JWKS_UNAVAILABLE')
})

t.test('with a plain key resolver a hit asks it for the key and a revoked key refuses the token', async (t) => {
  const { keySet } = await setup(t)
  const key = await keySet.getKey({ alg: 'ES256', kid: 'a' })
  const revoked = new Set<string>()
  let calls = 0
  const resolver: KeyResolver = {
    async getKey(header) {
      calls += 1
      if (revoked.has(header.kid!)) throw new TokenVerifierError('ERR_JWKS_NO_MATCHING_KEY')
      return key
    },
  }
  const verifier = createAccessTokenVerifier({ issuer, audience, keySet: resolver, now: () => startSec * 1000 })
  const token = await mintAccessToken(keyA, { nowSec: startSec })
  await verifier.verify(token)
  t.equal(await outcome(verifier, token), 'accepted user-1')
  t.equal(verifier.cache!.hits, 1)
  t.equal(verifier.cache!.verifications, 1)
  t.equal(calls, 2, 'the hit asked the resolver')
  revoked.add('a')
  t.equal(await outcome(verifier, token), 'ERR_JWKS_NO_MATCHING_KEY')
  t.equal(verifier.cache!.size, 0)
})

t.test('a resolver that returns a new key object every time gets correct answers, just no hits', async (t) => {
  const resolver: KeyResolver = { getKey: async () => (await importJWK(keyA.publicJwk, 'ES256')) as CryptoKey }
  const verifier = createAccessTokenVerifier({ issuer, audience, keySet: resolver, now: () => startSec * 1000 })
  const token = await mintAccessToken(keyA, { nowSec: startSec })
  t.equal(await outcome(verifier, token), 'accepted user-1')
  t.equal(await outcome(verifier, token), 'accepted user-1')
  t.equal(verifier.cache!.hits, 0)
  t.equal(verifier.cache!.verifications, 2)
})

t.test('only the exact token string hits: a changed signature is verified and refused', async (t) => {
  const { verifier } = await setup(t)
  const token = await mintAccessToken(keyA, { nowSec: startSec })
  await verifier.verify(token)
  const [h, p, s] = token.split('.') as [string, string, string]
  const other = s.startsWith('A') ? 'B' : 'A'
  // The map is indexed by the last characters of the signature: these share them with the cached token.
  const otherPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), sub: 'admin' })).toString('base64url')
  t.equal(await outcome(verifier, `${h}.${otherPayload}.${s}`), 'ERR_TOKEN_INVALID', 'another payload with the cached signature')
  t.equal(await outcome(verifier, `${h}.${p}.${other}${s.slice(1)}`), 'ERR_TOKEN_INVALID', 'the signature changed in its first character')
  t.equal(verifier.cached!(`${h}.${otherPayload}.${s}`), undefined)
  t.equal(await outcome(verifier, `${token}x`), 'ERR_TOKEN_INVALID')
  const hits = verifier.cache!.hits
  t.equal(await outcome(verifier, token), 'accepted user-1', 'the genuine token is still cached')
  t.equal(verifier.cache!.hits, hits + 1)
})

t.test('under churn the entries kept are always the most recent ones', async (t) => {
  const { verifier } = await setup(t, { maxEntries: 5 })
  const tokens = await Promise.all(Array.from({ length: 60 }, (_, i) => mintAccessToken(keyA, { nowSec: startSec, claims: { sub: `user-${i}` } })))
  for (const token of tokens) await verifier.verify(token)
  t.equal(verifier.cache!.size, 5)
  t.equal(verifier.cache!.evictions, 55)
  for (const token of tokens.slice(-5)) t.ok(verifier.cached!(token), 'one of the five newest is cached')
  for (const token of tokens.slice(0, 55)) t.equal(verifier.cached!(token), undefined)
})

t.test('a token used all the time survives churn far beyond maxEntries', async (t) => {
  const { verifier } = await setup(t, { maxEntries: 10 })
  const hot = await mintAccessToken(keyA, { nowSec: startSec, claims: { sub: 'hot' } })
  await verifier.verify(hot)
  for (let i = 0; i < 40; i += 1) {
    await verifier.verify(await mintAccessToken(keyA, { nowSec: startSec, claims: { sub: `cold-${i}` } }))
    await verifier.verify(hot)
    t.ok(verifier.cache!.size <= 10)
  }
  t.equal(verifier.cache!.hits, 40, 'every use of the hot token was a hit')
  t.equal(verifier.cache!.evictions, 31)
})

t.test('results are frozen: one request cannot change what the next one is served', async (t) => {
  const { verifier } = await setup(t)
  const token = await mintAccessToken(keyA, { nowSec: startSec })
  const result = await verifier.verify(token)
  t.throws(() => {
    ;(result.scope as string[]).push('admin')
  }, TypeError)
  t.throws(() => {
    ;(result as { sub: string }).sub = 'someone-else'
  }, TypeError)
  t.throws(() => {
    ;(result.claims as { roles: string[] }).roles.push('admin')
  }, TypeError)
  t.same((await verifier.verify(token)).scope, ['todos:read', 'todos:write'])
})

t.test('cached() serves synchronously only what needs no I/O: a fresh key set, an unexpired token, the same key', async (t) => {
  const { server, clock, keySet, verifier } = await setup(t)
  const token = await mintAccessToken(keyA, { nowSec: startSec, claims: { exp: startSec + 3600 } })
  t.equal(verifier.cached!(token), undefined, 'never verified')
  const result = await verifier.verify(token)
  t.equal(verifier.cached!(token), result, 'the very same result, no promise')
  t.equal(verifier.cache!.hits, 1)
  t.equal(verifier.cached!(`${token}.`), undefined)
  t.equal(verifier.cached!(42 as unknown as string), undefined)
  clock.ms += 60_000
  t.equal(verifier.cached!(token), undefined, 'stale key set: only verify() (which refetches) may answer')
  t.equal(await outcome(verifier, token), 'accepted user-1')
  t.equal(verifier.cached!(token), result, 'refetched: served again')
  server.body = { keys: [keyB.publicJwk] }
  await keySet.refresh()
  t.equal(verifier.cached!(token), undefined, 'its key left the set')
  t.equal(verifier.cache!.size, 0)

  const plain = createAccessTokenVerifier({ issuer, audience, keySet: { getKey: (h) => keySet.getKey(h) }, now: () => clock.ms })
  const other = await mintAccessToken(keyB, { nowSec: startSec, claims: { exp: startSec + 3600 } })
  await plain.verify(other)
  t.equal(plain.cached!(other), undefined, 'a resolver without peekKey can only be asked asynchronously')
  t.equal(await outcome(plain, other), 'accepted user-1')
  t.equal(plain.cache!.hits, 1)
})

t.test('the cache is on by default and cache: false turns it off', async (t) => {
  const { keySet } = await setup(t)
  const byDefault = createAccessTokenVerifier({ issuer, audience, keySet, now: () => startSec * 1000 })
  t.same(byDefault.cache && { size: byDefault.cache.size, hits: byDefault.cache.hits }, { size: 0, hits: 0 })
  const off = createAccessTokenVerifier({ issuer, audience, keySet, cache: false })
  t.equal(off.cache, null)
  for (const maxEntries of [0, -1, 1.5, Number.NaN]) {
    t.throws(() => createAccessTokenVerifier({ issuer, audience, keySet, cache: { maxEntries } }), TypeError, `maxEntries ${maxEntries}`)
  }
})
